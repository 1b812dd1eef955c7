-- depends: 0002_ppp_moves_to_master_data
-- The eligibility rules and their parameters are data: switch a rule on or change a date without a redeploy.
CREATE TABLE applications.eligibility_rule (
    code         text PRIMARY KEY,
    ordinal      integer NOT NULL,
    enabled      boolean NOT NULL,
    params       jsonb NOT NULL DEFAULT '{}',
    description  text NOT NULL,
    changed_by   text NOT NULL DEFAULT 'migration',
    changed_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO applications.eligibility_rule (code, ordinal, enabled, params, description) VALUES
 ('covered_group', 1, true, '{"groups": ["part1", "part2", "hartron"]}', 'Engaged through HKRN (Part-1), Outsourcing Policy Part-2 (Treasury) or HARTRON'),
 ('five_years_continuous', 2, true, '{"as_on": "2024-08-15", "years": 5}', 'At least five years of continuous service as on 15 August 2024, with no gap'),
 ('sanctioned_post', 3, true, '{}', 'Engaged against a sanctioned post'),
 ('contractual_pay_head', 4, true, '{"head_contains": "Contractual"}', 'Pay drawn from the correct contractual budget head'),
 ('below_retirement_age', 5, true, '{"age": 58}', 'Below the retirement age of 58'),
 ('nature_of_post', 6, false, '{"excluded_posts": []}', 'The nature of the post is covered (off by default)'),
 ('annual_income', 7, false, '{"max_annual_income": null}', 'Annual income within a limit (off by default)');

-- Each decision, stored with the application, with every rule's result and reason.
CREATE TABLE applications.eligibility_decision (
    application_no  text PRIMARY KEY REFERENCES applications.application (application_no),
    eligible        boolean NOT NULL,
    results         jsonb NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
