-- depends: 0011_no_income_rule
-- How dates are counted, as data the rules read and each reason states: five years "as on 15 August 2024"
-- count the joining day and the 15th itself (service from 16 August 2019 is five complete years); a person
-- attains an age on the day before the birthday (Prabhu Dayal Sesma v. State of Rajasthan, 1986).
UPDATE applications.eligibility_rule SET params = params || '{"count": "inclusive"}',
       changed_by = 'migration 0012', changed_at = now()
 WHERE code = 'five_years_continuous';
UPDATE applications.eligibility_rule SET params = params || '{"attains_on": "day_before_birthday"}',
       description = 'Below the retirement age of 58 (attained on the day before the 58th birthday)',
       changed_by = 'migration 0012', changed_at = now()
 WHERE code = 'below_retirement_age';
