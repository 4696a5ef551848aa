-- Staff roles narrower than `staff`: what each may do is the API's rule
-- (domain/access.rs), checked on every admin route.
ALTER TYPE account_role ADD VALUE 'catalog_manager';
ALTER TYPE account_role ADD VALUE 'fulfilment';
ALTER TYPE account_role ADD VALUE 'support';
ALTER TYPE account_role ADD VALUE 'marketing';
ALTER TYPE account_role ADD VALUE 'analyst';

-- Staff who leave are disabled, not deleted: their name stays on what they did (the audit
-- log, notes), and a disabled account cannot log in.
ALTER TABLE accounts ADD COLUMN disabled_at timestamptz;
