"""Ranked search and filters, checked on the real records of ../shared."""

from __future__ import annotations

import pytest

from trialscout.geo import resolve_place
from trialscout.store import Filters, get_trial, search
from trialscout.store.search import fts_expression

MYOSITIS_XML = {"NCT00001261", "NCT00001265", "NCT00001331", "NCT00001421", "NCT00004357", "NCT00005571"}


def ids(result):
    return [h.id for h in result.hits]


def names_dm(hit) -> bool:
    text = " ".join([hit.title, *hit.conditions]).lower()
    return "dermatomyositis" in text


def test_dermatomyositis_trials_rank_first(full_store):
    conn, _, _ = full_store
    result = search(conn, "dermatomyositis", limit=50)
    found = ids(result)
    assert MYOSITIS_XML <= set(found[:15])
    assert {"NCT07012057", "SEED-LENALIDOMIDE-CDM", "NCT05375435"} <= set(found[:15])
    # Every trial that names the disease in its title or conditions outranks every one that doesn't.
    flags = [names_dm(h) for h in result.hits]
    assert flags == sorted(flags, reverse=True)
    assert result.hits[0].score >= result.hits[-1].score


def test_mesh_ancestors_feed_search(full_store):
    conn, _, _ = full_store
    upadacitinib = get_trial(conn, "NCT05843643")
    own_text = " ".join(filter(None, [upadacitinib.brief_title, upadacitinib.official_title,
                                      upadacitinib.brief_summary, upadacitinib.detailed_description,
                                      upadacitinib.eligibility.criteria, *upadacitinib.conditions,
                                      *upadacitinib.keywords])).lower()
    assert "janus" not in own_text
    assert "NCT05843643" in ids(search(conn, "Janus kinase inhibitors"))


def test_status_and_phase_filters(full_store):
    conn, _, _ = full_store
    recruiting = search(conn, "dermatomyositis", Filters(statuses=("RECRUITING",)), limit=50)
    assert set(ids(recruiting)) == {"NCT05375435", "NCT00001265", "NCT04966884"}
    assert all(h.overall_status == "RECRUITING" for h in recruiting.hits)
    early = search(conn, "dermatomyositis", Filters(phases=("PHASE1",)), limit=50)
    assert "NCT05986162" in ids(early)
    assert all("PHASE1" in h.phases for h in early.hits)
    combined = search(conn, "lung cancer", Filters(statuses=("RECRUITING", "NOT_YET_RECRUITING"),
                                                   phases=("PHASE3",)), limit=200)
    assert combined.total > 0
    for h in combined.hits:
        assert h.overall_status in ("RECRUITING", "NOT_YET_RECRUITING") and "PHASE3" in h.phases


def test_age_filter_treats_missing_bounds_as_open(full_store):
    conn, _, _ = full_store
    # NCT06857240: 18 Years, no maximum. NCT07012057: 18 to 90 Years.
    at_95 = ids(search(conn, "dermatomyositis", Filters(age=95), limit=50))
    assert "NCT06857240" in at_95 and "NCT07012057" not in at_95
    at_10 = ids(search(conn, "dermatomyositis", Filters(age=10), limit=50))
    assert "NCT06857240" not in at_10
    assert "NCT00004357" in at_10  # juvenile dermatomyositis
    # Trials with no age limits at all stay in for every age.
    open_both = conn.execute("SELECT id FROM trials WHERE min_age_years IS NULL AND max_age_years IS NULL "
                             "AND id IN (SELECT id FROM trials WHERE title LIKE '%cancer%') LIMIT 1").fetchone()[0]
    title = get_trial(conn, open_both).title
    for age in (0.5, 40, 120):
        assert open_both in ids(search(conn, f'"{title}"', Filters(age=age), limit=5))


def test_sex_filter(full_store):
    conn, _, _ = full_store
    # NCT00576225 enrolls women only.
    assert "NCT00576225" in ids(search(conn, "estradiol lung", Filters(sex="FEMALE")))
    assert "NCT00576225" not in ids(search(conn, "estradiol lung", Filters(sex="MALE")))


def test_distance_filter_uses_record_points_and_gazetteer(full_store):
    conn, _, _ = full_store
    scottsdale = Filters(near=resolve_place("Scottsdale, AZ"), within_km=16)
    hits = search(conn, "estradiol lung", scottsdale).hits
    assert "NCT00576225" in [h.id for h in hits]
    site = next(h for h in hits if h.id == "NCT00576225").nearest_site
    assert site.city == "Scottsdale" and site.distance_km < 16 and site.geo_source == "record"
    far = Filters(near=resolve_place("Cleveland, OH"), within_km=16)
    assert "NCT00576225" not in ids(search(conn, "estradiol lung", far))
    # Legacy XML sites are placed by the gazetteer: NIH in Bethesda is ~300 miles from Cleveland.
    cleveland = resolve_place("Cleveland, OH")
    within_500mi = search(conn, "dermatomyositis", Filters(near=cleveland, within_km=805), limit=50)
    assert MYOSITIS_XML & set(ids(within_500mi))
    for h in within_500mi.hits:
        assert h.nearest_site is not None and h.nearest_site.distance_km <= 805
    within_100mi = search(conn, "dermatomyositis", Filters(near=cleveland, within_km=161), limit=50)
    assert not MYOSITIS_XML & set(ids(within_100mi))


def test_filters_combine_with_distance_and_country(full_store):
    conn, _, _ = full_store
    f = Filters(statuses=("RECRUITING",), countries=("united states",), near=resolve_place("41.5,-81.69"),
                within_km=1000)
    result = search(conn, "leukemia", f, limit=100)
    for h in result.hits:
        trial = get_trial(conn, h.id)
        assert trial.overall_status == "RECRUITING"
        assert any(loc.country == "United States" for loc in trial.locations)


@pytest.mark.parametrize("query", ['"', 'AND OR NOT', 'title:cancer*', 'leukemia)(', 'NEAR(a b)', "'; DROP TABLE",
                                   '"unclosed phrase', '^start', 'a -b +c', '***', '\u00a0µ≥', 'x' * 5000])
def test_query_syntax_never_leaks(full_store, query):
    conn, _, _ = full_store
    result = search(conn, query, limit=5)
    assert result.total >= 0


def test_fts_expression_quotes_every_term():
    assert fts_expression('lung AND "non-small cell" OR title:x*') == '"lung" AND "non small cell" AND "title" AND "x"'
    assert fts_expression("the of and") is None
    assert fts_expression("Sjögren's", "any") == '"Sjögren" OR "s"'


def test_no_word_has_every_term_falls_back_to_any(full_store):
    conn, _, _ = full_store
    result = search(conn, "dermatomyositis zzzunknownword")
    assert result.match == "any" and result.total > 0


def test_browse_without_query_and_facets(full_store):
    conn, _, _ = full_store
    result = search(conn, None, Filters(statuses=("NOT_YET_RECRUITING",)), limit=5, facets=True)
    assert result.match == "browse" and result.total == 51
    assert result.facets["status"] == {"NOT_YET_RECRUITING": 51}
    assert sum(result.facets["study_type"].values()) <= 51


def test_study_type_intervention_sponsor_and_volunteer_filters(full_store):
    conn, _, _ = full_store
    cases = [
        (Filters(study_types=("OBSERVATIONAL",)), lambda t: t.study_type == "OBSERVATIONAL"),
        (Filters(intervention_types=("DEVICE",)), lambda t: any(i.type == "DEVICE" for i in t.interventions)),
        (Filters(sponsor_classes=("INDUSTRY",)), lambda t: t.lead_sponsor and t.lead_sponsor.cls == "INDUSTRY"),
        (Filters(healthy_volunteers=True), lambda t: t.eligibility.healthy_volunteers is True),
        (Filters(healthy_volunteers=False), lambda t: t.eligibility.healthy_volunteers is False),
    ]
    for filters, holds in cases:
        result = search(conn, "cancer", filters, limit=100)
        assert 0 < result.total < search(conn, "cancer").total, filters
        assert all(holds(get_trial(conn, h.id)) for h in result.hits), filters
    registry = [t for t in (get_trial(conn, h.id) for h in
                            search(conn, None, Filters(study_types=("OBSERVATIONAL",)), limit=2000).hits)
                if t.patient_registry]
    assert registry, "legacy XML 'Observational [Patient Registry]' keeps its registry flag"
