-- Typo tolerance for search. The lexicon holds every word (as its English stem) of the active
-- catalog; a query word that matches nothing is replaced by its closest lexicon words by
-- trigram similarity ("did you mean"), as the pg_trgm documentation suggests. The storage
-- layer refreshes it after catalog writes.
CREATE MATERIALIZED VIEW search_lexicon AS
    SELECT word
      FROM ts_stat($$SELECT search_document FROM products WHERE status = 'active'$$)
     WHERE word ~ '^[a-z0-9]+$';
CREATE UNIQUE INDEX search_lexicon_word_idx ON search_lexicon (word);
CREATE INDEX search_lexicon_trgm_idx ON search_lexicon USING gin (word gin_trgm_ops);

-- AND-combines the per-word queries of a search.
CREATE AGGREGATE tsquery_and_agg(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);
