from collections import Counter
from datetime import date

from deploy.local.synthetic import CONTRACTUAL_HEAD, CUTOFF, DISTRICTS, FAULTS, generate


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = generate(300, seed=1), generate(300, seed=1), generate(300, seed=2)
    assert [e.master for e in a.employees] == [e.master for e in b.employees]
    assert [e.master for e in a.employees] != [e.master for e in c.employees]


def test_every_district_every_group_and_unique_mobiles():
    data = generate(3000, seed=5)
    masters = [e.master for e in data.employees]
    assert {m["district"] for m in masters} == set(DISTRICTS) and len(DISTRICTS) == 22
    assert {m["employee_group"] for m in masters} == {"part1", "part2", "hartron"}
    mobiles = [m["mobile"] for m in masters]
    assert len(set(mobiles)) == len(mobiles)
    assert all(m[0] in "6789" and len(m) == 10 for m in mobiles)
    assert {m["ddo_code"] for m in masters} <= {d["ddo_code"] for d in data.ddos}


def test_faults_come_in_the_asked_share_and_show_in_the_records():
    data = generate(5000, seed=9, fault_share=0.2)
    counts = Counter(e.fault for e in data.employees)
    assert 0.17 < (5000 - counts[None]) / 5000 < 0.23
    assert set(counts) - {None} == set(FAULTS)
    for e in data.employees:
        m = e.master
        if e.fault == "wrong_mobile":
            assert m["mobile"] != e.actual_mobile
        else:
            assert m["mobile"] == e.actual_mobile
        if e.fault == "wrong_pay_head":
            assert m["pay_head"] != CONTRACTUAL_HEAD
        if e.fault == "under_five_years":
            assert (CUTOFF - m["date_of_joining"]).days < 5 * 365
        if e.fault == "service_gap":
            assert len(m["service_periods"]) == 2
        if e.fault == "age_58_plus":
            assert m["date_of_birth"] < date(1968, 5, 1)
        if e.fault == "ppp_mismatch":
            assert (e.ppp["name"], e.ppp["date_of_birth"]) != (m["name"], m["date_of_birth"])
        if e.fault is None:
            assert (CUTOFF - m["date_of_joining"]).days >= 5 * 365 and m["pay_head"] == CONTRACTUAL_HEAD


def test_state_scale_generation_is_within_reach():
    data = generate(120_000, seed=3, fault_share=0.08)
    assert len(data.employees) == 120_000
    assert len({e.master["employee_id"] for e in data.employees}) == 120_000
