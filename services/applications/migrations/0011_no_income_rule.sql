-- depends: 0010_audit_no_truncate
-- The annual income rule is dropped: no service record carries an income, so it could never fail (nor pass on
-- anything real). If the state adds income to the data owners' records, it comes back with that data.
DELETE FROM applications.eligibility_rule WHERE code = 'annual_income';
