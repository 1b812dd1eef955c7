"""Synthetic master data for a season: seeded and reproducible, with a configurable share of the faults
the real portal met (changed mobile, PPP mismatch, wrong pay head, under five years, a service gap, 58+)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

DISTRICTS = [
    "Ambala",
    "Bhiwani",
    "Charkhi Dadri",
    "Faridabad",
    "Fatehabad",
    "Gurugram",
    "Hisar",
    "Jhajjar",
    "Jind",
    "Kaithal",
    "Karnal",
    "Kurukshetra",
    "Mahendragarh",
    "Nuh",
    "Palwal",
    "Panchkula",
    "Panipat",
    "Rewari",
    "Rohtak",
    "Sirsa",
    "Sonipat",
    "Yamunanagar",
]
DEPARTMENTS = {
    "HEALTH": "Health Department",
    "SCHOOLEDU": "School Education Department",
    "HIGHEREDU": "Higher Education Department",
    "PWD": "Public Works (Buildings & Roads) Department",
    "IRRIGATION": "Irrigation & Water Resources Department",
    "AGRI": "Agriculture & Farmers Welfare Department",
    "REVENUE": "Revenue & Disaster Management Department",
    "POLICE": "Haryana Police",
    "ULB": "Urban Local Bodies Department",
    "PANCHAYAT": "Development & Panchayats Department",
    "WCD": "Women & Child Development Department",
    "SJE": "Social Justice, Empowerment & Antyodaya (SEWA) Department",
    "PHED": "Public Health Engineering Department",
    "UHBVN": "Uttar Haryana Bijli Vitran Nigam",
    "DHBVN": "Dakshin Haryana Bijli Vitran Nigam",
    "TRANSPORT": "Transport Department",
    "FOREST": "Forests & Wildlife Department",
    "FOOD": "Food, Civil Supplies & Consumer Affairs Department",
    "ANIMALHUS": "Animal Husbandry & Dairying Department",
    "TECHEDU": "Technical Education Department",
}
POSTS = {
    "DEO": "Data Entry Operator",
    "CLERK": "Clerk",
    "MTS": "Multi-Tasking Staff",
    "DRIVER": "Driver",
    "NURSE": "Staff Nurse",
    "LABTECH": "Laboratory Technician",
    "COMPTEACH": "Computer Teacher",
    "JE": "Junior Engineer",
    "LINEMAN": "Lineman",
    "ACCOUNTANT": "Accountant",
    "GUARD": "Security Guard",
    "SWEEPER": "Safai Karamchari",
    "MALI": "Mali",
    "PHARMACIST": "Pharmacist",
    "STENO": "Stenographer",
    "PUMPOP": "Pump Operator",
}
# The lists' Hindi names, as the data owners' files carry them beside the English.
DISTRICTS_HI = {
    "Ambala": "अंबाला",
    "Bhiwani": "भिवानी",
    "Charkhi Dadri": "चरखी दादरी",
    "Faridabad": "फरीदाबाद",
    "Fatehabad": "फतेहाबाद",
    "Gurugram": "गुरुग्राम",
    "Hisar": "हिसार",
    "Jhajjar": "झज्जर",
    "Jind": "जींद",
    "Kaithal": "कैथल",
    "Karnal": "करनाल",
    "Kurukshetra": "कुरुक्षेत्र",
    "Mahendragarh": "महेंद्रगढ़",
    "Nuh": "नूंह",
    "Palwal": "पलवल",
    "Panchkula": "पंचकूला",
    "Panipat": "पानीपत",
    "Rewari": "रेवाड़ी",
    "Rohtak": "रोहतक",
    "Sirsa": "सिरसा",
    "Sonipat": "सोनीपत",
    "Yamunanagar": "यमुनानगर",
}
DEPARTMENTS_HI = {
    "HEALTH": "स्वास्थ्य विभाग",
    "SCHOOLEDU": "स्कूल शिक्षा विभाग",
    "HIGHEREDU": "उच्चतर शिक्षा विभाग",
    "PWD": "लोक निर्माण (भवन एवं सड़कें) विभाग",
    "IRRIGATION": "सिंचाई एवं जल संसाधन विभाग",
    "AGRI": "कृषि एवं किसान कल्याण विभाग",
    "REVENUE": "राजस्व एवं आपदा प्रबंधन विभाग",
    "POLICE": "हरियाणा पुलिस",
    "ULB": "शहरी स्थानीय निकाय विभाग",
    "PANCHAYAT": "विकास एवं पंचायत विभाग",
    "WCD": "महिला एवं बाल विकास विभाग",
    "SJE": "सामाजिक न्याय, अधिकारिता एवं अंत्योदय (सेवा) विभाग",
    "PHED": "जन स्वास्थ्य अभियांत्रिकी विभाग",
    "UHBVN": "उत्तर हरियाणा बिजली वितरण निगम",
    "DHBVN": "दक्षिण हरियाणा बिजली वितरण निगम",
    "TRANSPORT": "परिवहन विभाग",
    "FOREST": "वन एवं वन्यजीव विभाग",
    "FOOD": "खाद्य, नागरिक आपूर्ति एवं उपभोक्ता मामले विभाग",
    "ANIMALHUS": "पशुपालन एवं डेयरी विभाग",
    "TECHEDU": "तकनीकी शिक्षा विभाग",
}
POSTS_HI = {
    "DEO": "डेटा एंट्री ऑपरेटर",
    "CLERK": "लिपिक",
    "MTS": "मल्टी-टास्किंग स्टाफ",
    "DRIVER": "चालक",
    "NURSE": "स्टाफ नर्स",
    "LABTECH": "प्रयोगशाला तकनीशियन",
    "COMPTEACH": "कंप्यूटर शिक्षक",
    "JE": "कनिष्ठ अभियंता",
    "LINEMAN": "लाइनमैन",
    "ACCOUNTANT": "लेखाकार",
    "GUARD": "सुरक्षा गार्ड",
    "SWEEPER": "सफाई कर्मचारी",
    "MALI": "माली",
    "PHARMACIST": "फार्मासिस्ट",
    "STENO": "आशुलिपिक",
    "PUMPOP": "पंप ऑपरेटर",
}
FIRST = [
    "Ramesh",
    "Suresh",
    "Sunita",
    "Anita",
    "Rajesh",
    "Pooja",
    "Sandeep",
    "Neha",
    "Vikas",
    "Kavita",
    "Amit",
    "Rekha",
    "Manoj",
    "Priyanka",
    "Deepak",
    "Seema",
    "Naresh",
    "Monika",
    "Vinod",
    "Sarita",
    "Jagdish",
    "Meena",
    "Satish",
    "Babita",
    "Rakesh",
    "Kamlesh",
    "Ravinder",
    "Geeta",
    "Mukesh",
    "Savita",
    "Pardeep",
    "Anju",
    "Sunil",
    "Renu",
]
FATHER = [
    "Ram Kumar",
    "Om Prakash",
    "Satbir Singh",
    "Raj Singh",
    "Krishan Lal",
    "Dharambir",
    "Jai Bhagwan",
    "Mahabir",
    "Rajender",
    "Balwan Singh",
    "Subhash Chand",
    "Ishwar Singh",
    "Ranbir",
    "Hawa Singh",
    "Chander Bhan",
    "Sultan Singh",
]
SURNAMES = [
    "Sharma",
    "Kumar",
    "Devi",
    "Singh",
    "Yadav",
    "Malik",
    "Dahiya",
    "Saini",
    "Jangra",
    "Rani",
    "Verma",
    "Goyat",
    "Sangwan",
    "Punia",
    "Bishnoi",
    "Rathee",
    "Hooda",
    "Kadian",
]
CONTRACTUAL_HEAD = "2202-01-101-99-51-Contractual Services"
WRONG_HEADS = ["2202-01-101-99-01-Salaries", "2210-01-110-99-98-Office Expenses"]
CUTOFF = date(2024, 8, 15)  # five years of continuous service are counted on this date
GROUP_OWNER = {"part1": "HKRN", "part2": "TREASURY", "hartron": "HARTRON"}
FAULTS = ["wrong_mobile", "ppp_mismatch", "wrong_pay_head", "under_five_years", "service_gap", "age_58_plus"]


@dataclass
class SyntheticEmployee:
    """One employee: the master record as the data owner holds it, and what the generator knows beside it."""

    master: dict[str, Any]
    ppp: dict[str, Any]  # the Family ID registry's view of the same person
    actual_mobile: str  # the mobile the employee really has (differs under wrong_mobile)
    fault: str | None = None


@dataclass
class MasterData:
    departments: dict[str, str]
    districts: list[str]
    posts: dict[str, str]
    ddos: list[dict[str, Any]]
    officers: list[dict[str, Any]]
    employees: list[SyntheticEmployee] = field(default_factory=list)


def ddo_code(department: str, district: str) -> str:
    return f"DDO-{department}-{district.upper().replace(' ', '')[:6]}"


def _mobiles(rng: random.Random) -> Iterator[str]:
    seen: set[str] = set()
    while True:
        m = f"{rng.choice('6789')}{rng.randrange(10**9):09d}"
        if m not in seen:
            seen.add(m)
            yield m


def _family_id(rng: random.Random, n: int) -> str:
    return f"{rng.choice('123456789')}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{n:06d}"


def _ddos() -> list[dict[str, Any]]:
    return [
        {
            "ddo_code": ddo_code(d, dist),
            "department_code": d,
            "district": dist,
            "office_name": f"{DEPARTMENTS[d]}, {dist}",
            "office_name_hi": f"{DEPARTMENTS_HI[d]}, {DISTRICTS_HI[dist]}",
            "phone": f"00000-{i:05d}",  # plainly not a real number: the local stack's
        }
        for i, (d, dist) in enumerate((d, dist) for d in DEPARTMENTS for dist in DISTRICTS)
    ]


def seeded_officers(ddos: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The officers of the synthetic state: one DDO per office, an HoD and an Administrative Secretary per
    department, Finance, the HR administrator and one data officer per data owner. The same every time, so
    the local identity provider knows them before any data is loaded."""

    def officer(
        officer_id: str,
        name: str,
        role: str,
        ddo: str | None = None,
        department: str | None = None,
        data_owner: str | None = None,
    ) -> dict[str, Any]:
        return {
            "officer_id": officer_id,
            "name": name,
            "role": role,
            "ddo_code": ddo,
            "department": department,
            "data_owner": data_owner,
        }

    officers = [
        officer(f"OFF-{x['ddo_code']}", f"DDO {x['office_name']}", "ddo", x["ddo_code"], x["department_code"])
        for x in (ddos or _ddos())
    ]
    officers += [officer(f"HOD-{d}", f"Head of {name}", "hod", department=d) for d, name in DEPARTMENTS.items()]
    officers += [
        officer(f"AS-{d}", f"Administrative Secretary, {name}", "admin_secretary", department=d)
        for d, name in DEPARTMENTS.items()
    ]
    # Finance's missed post creation escalates to the Finance Department's Secretary (as:FINANCE)
    officers += [
        officer("AS-FINANCE", "Administrative Secretary, Finance Department", "admin_secretary", department="FINANCE")
    ]
    officers += [
        officer("FIN-1", "Finance Department officer", "finance"),
        officer("ADMIN-HR", "Human Resources Department administrator", "administrator"),
    ]
    officers += [
        officer(f"DATA-{owner}", f"Data officer, {owner}", "data_officer", data_owner=owner)
        for owner in ("HKRN", "TREASURY", "HARTRON")
    ]
    # how each is told of escalations and pending work: every officer by SMS (numbers of a range no employee's
    # record uses here); Heads and Secretaries also by e-mail; Secretaries and the rest in English
    for n, o in enumerate(officers, start=1):
        o["mobile"] = f"6999{n:06d}"
        o["email"] = (
            f"{o['officer_id'].lower()}@officers.seva.example" if o["role"] in ("hod", "admin_secretary") else None
        )
        o["language"] = "hi" if o["role"] in ("ddo", "hod") else "en"
    return officers


# The Family ID registry as it is: some families gave it no mobile, some another member's number. Assumptions
# (no measurement of the real registry is at hand); the season simulator reports its audit figures over them.
REGISTRY_WITHOUT_MOBILE = 0.12
REGISTRY_OTHER_MEMBER = 0.08


def generate(
    size: int,
    seed: int = 2025,
    fault_share: float = 0.1,
    progress: Callable[[int], object] | None = None,
    first_id: int = 1,
    fault_weights: dict[str, float] | None = None,
    registry_without_mobile: float = REGISTRY_WITHOUT_MOBILE,
    registry_other_member: float = REGISTRY_OTHER_MEMBER,
) -> MasterData:
    """`first_id` numbers the employees from there (EMP0000001 by default), for data sets that sit side by side.
    A faulty record's fault is drawn evenly from FAULTS, or by `fault_weights` (the season simulator's mix).
    The Family ID registry has numbers of its own, as the real one does: no mobile for some families, another
    member's for some (drawn from a generator of their own, so the rest of the data is the same for a seed)."""
    if not 1 <= size <= 200_000:
        raise ValueError("size must be between 1 and 200,000")
    rng = random.Random(seed)
    ddos = _ddos()
    officers = seeded_officers(ddos)
    data = MasterData(dict(DEPARTMENTS), list(DISTRICTS), dict(POSTS), ddos, officers)
    mobiles = _mobiles(rng)
    registry = random.Random(seed + 7)
    departments, posts = list(DEPARTMENTS), list(POSTS)
    for n in range(first_id, first_id + size):
        group = rng.choices(["part1", "part2", "hartron"], weights=[60, 32, 8])[0]
        dept, district, post = rng.choice(departments), rng.choice(DISTRICTS), rng.choice(posts)
        fault = None
        if rng.random() < fault_share:
            fault = (
                rng.choices(list(fault_weights), weights=list(fault_weights.values()))[0]
                if fault_weights
                else rng.choice(FAULTS)
            )
        first, surname = rng.choice(FIRST), rng.choice(SURNAMES)
        name, father = f"{first} {surname}", f"{rng.choice(FATHER)} {surname}"
        born = CUTOFF - timedelta(days=rng.randrange(25 * 365, 52 * 365))
        if fault == "age_58_plus":
            born = date(2026, 4, 30) - timedelta(days=58 * 365 + rng.randrange(15, 800))
        joined = CUTOFF - timedelta(days=rng.randrange(5 * 366, 15 * 365))
        if fault == "under_five_years":
            joined = CUTOFF - timedelta(days=rng.randrange(200, 5 * 365 - 10))
        periods = [{"from": joined.isoformat(), "to": None}]
        if fault == "service_gap":
            gap_start = joined + timedelta(days=rng.randrange(200, 900))
            periods = [
                {"from": joined.isoformat(), "to": gap_start.isoformat()},
                {"from": (gap_start + timedelta(days=rng.randrange(2, 120))).isoformat(), "to": None},
            ]
        actual_mobile = next(mobiles)
        record_mobile = next(mobiles) if fault == "wrong_mobile" else actual_mobile
        family_id = _family_id(rng, n)
        master = {
            "employee_id": f"EMP{n:07d}",
            "employee_group": group,
            "data_owner": GROUP_OWNER[group],
            "name": name,
            "father_name": father,
            "date_of_birth": born,
            "mobile": record_mobile,
            "family_id": family_id,
            "department_code": dept,
            "district": district,
            "post_code": post,
            "ddo_code": ddo_code(dept, district),
            "date_of_joining": joined,
            "service_periods": periods,
            "sanctioned_post": True,
            "status": "active",
            "pay_head": rng.choice(WRONG_HEADS) if fault == "wrong_pay_head" else CONTRACTUAL_HEAD,
        }
        ppp = {"family_id": family_id, "name": name, "father_name": father, "date_of_birth": born}
        # the Family ID registry holds the number the family gave it: mostly the one the employee really uses, but
        # an audit that checks records against it must not be graded on a registry that is right by construction
        draw = registry.random()
        if draw < registry_without_mobile:
            ppp["mobile"] = None
        elif draw < registry_without_mobile + registry_other_member:
            ppp["mobile"] = f"7{registry.randrange(10**9):09d}"  # a family member's number
        else:
            ppp["mobile"] = actual_mobile
        if fault == "ppp_mismatch":
            ppp["name"] = f"{first} {rng.choice([s for s in SURNAMES if s != surname])}"
            ppp["date_of_birth"] = born + timedelta(days=rng.choice([-366, 31, 365]))
        data.employees.append(SyntheticEmployee(master, ppp, actual_mobile, fault))
        if progress is not None:
            progress(1)
    return data
