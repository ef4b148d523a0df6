-- trialscout store, schema version 1.
-- trials holds one row per trial: the columns filters need, plus the whole record
-- (zlib-compressed JSON of the Trial model) so later stages never re-read sources.
CREATE TABLE IF NOT EXISTS trials (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    nct_id TEXT,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    overall_status TEXT,
    study_type TEXT,
    phases TEXT,
    sex TEXT,
    min_age_years REAL,
    max_age_years REAL,
    healthy_volunteers INTEGER,
    sponsor TEXT,
    sponsor_class TEXT,
    enrollment INTEGER,
    last_update TEXT,
    content_hash TEXT NOT NULL,
    record BLOB NOT NULL
);

-- Multi-valued filter fields (phase, intervention type, country, ...), one row per value,
-- so every filter is an index lookup and facet counts are a GROUP BY.
CREATE TABLE IF NOT EXISTS facets (
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    trial INTEGER NOT NULL,
    PRIMARY KEY (facet, value, trial)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS facets_by_trial ON facets (trial);

-- Other ids a trial is known by (NCT aliases, secondary ids), for `show`.
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT NOT NULL,
    trial INTEGER NOT NULL,
    PRIMARY KEY (alias, trial)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_by_trial ON aliases (trial);

-- Sites with coordinates; the R*Tree finds those inside a bounding box.
CREATE TABLE IF NOT EXISTS sites (
    id INTEGER PRIMARY KEY,
    trial INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sites_by_trial ON sites (trial);
CREATE VIRTUAL TABLE IF NOT EXISTS sites_box USING rtree (id, min_lat, max_lat, min_lon, max_lon);

-- Full-text index; column order matters: store/search.py weighs the columns in this order.
CREATE VIRTUAL TABLE IF NOT EXISTS trials_fts USING fts5 (
    title, conditions, interventions, mesh, keywords, summary, description, criteria,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
