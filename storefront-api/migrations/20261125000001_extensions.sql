-- pg_trgm gives search its typo tolerance; citext keeps emails unique regardless of case.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS citext;
