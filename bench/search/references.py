"""Three references that answer the bench's queries over the same practitioners as the engine:
top-20 practitioner ids, within the radius, filtered and sorted as the query asks.

- NaiveSQL: one SQL statement per search over a denormalised table, `LIKE '%word%'` for each concept
  (AND across concepts), every place of every matching row sent back, radius by Python haversine.
- FTS5: SQLite FTS5 (porter tokenizer) for the text, a places table with a (lat, lon) index for a
  bounding box, exact haversine in Python on what the box lets through.
- Tantivy: a compiled engine (Rust) and its query parser; bounding box as fast-field range queries,
  exact haversine in Python; distance order by growing rings, relevance by growing top-k.

Each builds its own store in the bench's work folder from `corpus.load_corpus()`.
"""

import math
import shutil
import sqlite3
from pathlib import Path

from bench.search.corpus import Concept, Doc, bbox, concepts, nearest_km, today_ordinal
from bench.search.queries import Query, min_since_year
from directory.geo.distance import haversine_km

TOP = 20
NEVER = 9999  # `since` of a practitioner who did not say; no min_years filter lets them through


def _filters(query: Query, alias: str = "d") -> tuple[list[str], list]:
    """SQL conditions and parameters for min_years and verified, on the docs table."""
    where, params = [], []
    since = min_since_year(query)
    if since is not None:
        where.append(f"{alias}.since <= ?")
        params.append(since)
    if query.verified:
        where.append(f"{alias}.verified_until >= ?")
        params.append(today_ordinal())
    return where, params


def _top(best: dict[int, tuple], query: Query) -> list[int]:
    """best: pid -> (distance, relevance key); relevance keys sort ascending (best first)."""
    if query.sort == "distance":
        ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
    else:
        ranked = sorted(best.items(), key=lambda item: (item[1][1], item[0]))
    return [pid for pid, _ in ranked[:TOP]]


class Reference:
    """search(): every concept must match; if nothing does, a query of two or more concepts is asked
    again with any concept matching, as the API's relaxed answer is."""

    name = ""

    def search(self, query: Query) -> list[int]:
        found = concepts(query.q)
        ids = self.answer(query, found, " AND ")
        if not ids and len(found) > 1:
            ids = self.answer(query, found, " OR ")
        return ids

    def answer(self, query: Query, found: list[Concept], join: str) -> list[int]:
        raise NotImplementedError


def _fresh_db(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    return con


class NaiveSQL(Reference):
    """What a first version would do: no index but the primary keys and places.pid."""

    name = "naive SQL"

    def build(self, docs: list[Doc], workdir: Path) -> None:
        con = _fresh_db(workdir / "naive.db")
        con.executescript(
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, text TEXT, slugs TEXT, since INT, verified_until INT);"
            "CREATE TABLE places (pid INT, lat REAL, lon REAL);"
        )
        con.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
            ((d.pid, d.text, f" {' '.join(d.slugs)} ", d.since, d.verified_until) for d in docs),
        )
        con.executemany("INSERT INTO places VALUES (?, ?, ?)", ((d.pid, *p) for d in docs for p in d.places))
        con.execute("CREATE INDEX places_pid ON places (pid)")
        con.commit()
        self.con = con

    @staticmethod
    def _term(concept: Concept) -> str:
        # The one concession to stemming: "shoulders" looks for "shoulder".
        word = concept.phrase
        return word[:-1] if len(concept.words) == 1 and len(word) > 3 and word.endswith("s") else word

    def answer(self, query: Query, found: list[Concept], join: str) -> list[int]:
        where, params, terms, text = [], [], [], []
        for concept in found:
            term = self._term(concept)
            terms.append(term)
            alternatives = ["d.text LIKE ?"] + ["d.slugs LIKE ?"] * len(concept.slugs)
            text.append(f"({' OR '.join(alternatives)})")
            params += [f"%{term}%"] + [f"% {slug} %" for slug in concept.slugs]
        if text:
            where.append(f"({join.join(text)})")
        more, more_params = _filters(query)
        where += more
        params += more_params
        located = query.lat is not None
        columns = "d.id, d.text" + (", p.lat, p.lon" if located else "")
        sql = f"SELECT {columns} FROM docs d" + (" JOIN places p ON p.pid = d.id" if located else "")  # noqa: S608  (fixed fragments, bound values)
        if where:
            sql += " WHERE " + " AND ".join(where)
        best: dict[int, tuple] = {}
        for row in self.con.execute(sql, params):
            pid, text = row[0], row[1]
            distance = haversine_km(query.lat, query.lon, row[2], row[3]) if located else 0.0
            if distance > query.radius_km or (pid in best and best[pid][0] <= distance):
                continue
            best[pid] = (distance, -sum(text.count(t) for t in terms) if terms else 0)
        return _top(best, query)


class FTS5(Reference):
    """SQLite's own full-text engine, and a B-tree on (lat, lon) for the box."""

    name = "FTS5"

    @staticmethod
    def token(slug: str) -> str:
        return "v" + slug.replace("-", "")

    def build(self, docs: list[Doc], workdir: Path) -> None:
        con = _fresh_db(workdir / "fts5.db")
        con.executescript(
            "CREATE VIRTUAL TABLE fts USING fts5(text, vocab, tokenize = 'porter unicode61 remove_diacritics 2');"
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, since INT, verified_until INT);"
            "CREATE TABLE places (pid INT, lat REAL, lon REAL);"
        )
        con.executemany(
            "INSERT INTO fts (rowid, text, vocab) VALUES (?, ?, ?)",
            ((d.pid, d.text, " ".join(self.token(s) for s in d.slugs)) for d in docs),
        )
        con.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)", ((d.pid, d.since, d.verified_until) for d in docs)
        )
        con.executemany("INSERT INTO places VALUES (?, ?, ?)", ((d.pid, *p) for d in docs for p in d.places))
        con.executescript(
            "CREATE INDEX places_lat_lon ON places (lat, lon, pid);"
            "CREATE INDEX places_pid ON places (pid);"
            "INSERT INTO fts (fts) VALUES ('optimize');"
            "ANALYZE;"
        )
        con.commit()
        self.con = con

    def match(self, found: list[Concept], join: str) -> str:
        def one(concept: Concept) -> str:
            parts = [f'"{concept.phrase}"'] + [f'vocab : "{self.token(s)}"' for s in concept.slugs]
            return f"({' OR '.join(parts)})"

        return join.join(one(c) for c in found)

    def answer(self, query: Query, found: list[Concept], join: str) -> list[int]:
        where, params = _filters(query)
        join_docs = " JOIN docs d ON d.id = {}" if where else ""
        if query.lat is None:
            sql = "SELECT fts.rowid FROM fts" + join_docs.format("fts.rowid") + " WHERE fts MATCH ?"  # noqa: S608  (fixed fragments, bound values)
            sql += "".join(f" AND {w}" for w in where) + " ORDER BY fts.rank LIMIT ?"
            return [pid for (pid,) in self.con.execute(sql, [self.match(found, join), *params, TOP])]
        lat_lo, lat_hi, lon_lo, lon_hi = bbox(query.lat, query.lon, query.radius_km)
        box = ["p.lat BETWEEN ? AND ?", "p.lon BETWEEN ? AND ?"]
        box_params = [lat_lo, lat_hi, lon_lo, lon_hi]
        if found:
            sql = "SELECT fts.rowid, fts.rank, p.lat, p.lon FROM fts JOIN places p ON p.pid = fts.rowid"
            sql += join_docs.format("fts.rowid")
            conditions, params = (
                ["fts MATCH ?", *box, *where],
                [self.match(found, join), *box_params, *params],
            )
        else:
            sql = "SELECT p.pid, 0, p.lat, p.lon FROM places p" + join_docs.format("p.pid")  # noqa: S608  (fixed fragments, bound values)
            conditions, params = [*box, *where], [*box_params, *params]
        sql += " WHERE " + " AND ".join(conditions)
        best: dict[int, tuple] = {}
        for pid, rank, lat, lon in self.con.execute(sql, params):
            distance = haversine_km(query.lat, query.lon, lat, lon)
            if distance <= query.radius_km and (pid not in best or distance < best[pid][0]):
                best[pid] = (distance, rank)
        return _top(best, query)


class Tantivy(Reference):
    """One document per practitioner; lat and lon are multi-valued fast fields (one value per place),
    so a box can let through a practitioner whose one place has the latitude and another the
    longitude: the exact distance, from the places kept here in memory, weeds those out."""

    name = "tantivy"
    FIRST_K = 64

    def build(self, docs: list[Doc], workdir: Path) -> None:
        import tantivy

        folder = workdir / "tantivy"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("pid", indexed=True, fast=True)
        builder.add_text_field("text", tokenizer_name="en_stem")
        builder.add_text_field("vocab", tokenizer_name="raw")
        for name in ("lat", "lon"):
            builder.add_float_field(name, indexed=True, fast=True)
        for name in ("since", "verified_until"):
            builder.add_integer_field(name, indexed=True, fast=True)
        schema = builder.build()
        index = tantivy.Index(schema, path=str(folder))
        writer = index.writer(heap_size=256_000_000)
        for d in docs:
            writer.add_document(
                tantivy.Document(
                    pid=d.pid,
                    text=d.text,
                    vocab=list(d.slugs),
                    lat=[p[0] for p in d.places],
                    lon=[p[1] for p in d.places],
                    since=d.since,
                    verified_until=d.verified_until,
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self.tantivy, self.schema, self.index = tantivy, schema, index
        self.searcher = index.searcher()
        self.places = {d.pid: d.places for d in docs}

    def _range(self, field: str, kind, lower=None, upper=None):
        return self.tantivy.Query.range_query(self.schema, field, kind, lower, upper)

    def _base(self, query: Query, found: list[Concept], join: str) -> list:
        """The text and the filters, as clauses that must all match."""
        t = self.tantivy
        clauses = []
        if found:
            parts = ([f'text:"{c.phrase}"'] + [f'vocab:"{s}"' for s in c.slugs] for c in found)
            text = join.join(f"({' OR '.join(p)})" for p in parts)
            clauses.append(self.index.parse_query(text, ["text"]))
        since = min_since_year(query)
        if since is not None:
            clauses.append(self._range("since", t.FieldType.Integer, upper=since))
        if query.verified:
            clauses.append(self._range("verified_until", t.FieldType.Integer, lower=today_ordinal()))
        return clauses

    def _boxed(self, clauses: list, query: Query, radius_km: float):
        t = self.tantivy
        lat_lo, lat_hi, lon_lo, lon_hi = bbox(query.lat, query.lon, radius_km)
        box = [
            self._range("lat", t.FieldType.Float, lat_lo, lat_hi),
            self._range("lon", t.FieldType.Float, lon_lo, lon_hi),
        ]
        return t.Query.boolean_query([(t.Occur.Must, c) for c in [*clauses, *box]])

    def _hits(self, q, limit: int) -> list[tuple[float, int]]:
        hits = self.searcher.search(q, limit=limit, count=False).hits
        pids = self.searcher.fast_field_values("pid", [address for _, address in hits])
        return [(score, pid) for (score, _), pid in zip(hits, pids, strict=True)]

    def answer(self, query: Query, found: list[Concept], join: str) -> list[int]:
        clauses = self._base(query, found, join)
        if query.lat is None:
            q = (
                clauses[0]
                if len(clauses) == 1
                else self.tantivy.Query.boolean_query([(self.tantivy.Occur.Must, c) for c in clauses])
            )
            return [pid for _, pid in sorted(self._hits(q, TOP), key=lambda h: (-h[0], h[1]))]
        if query.sort == "distance":
            return self._by_distance(clauses, query)
        # By relevance: the best-scored k in the box; if fewer than TOP of them are inside the
        # circle and the box had more, ask for four times as many.
        q, k = self._boxed(clauses, query, query.radius_km), self.FIRST_K
        while True:
            hits = self._hits(q, k)
            best = {}
            for score, pid in hits:
                distance = nearest_km(query.lat, query.lon, self.places[pid])
                if distance <= query.radius_km:
                    best[pid] = (distance, -score)
            if len(best) >= TOP or len(hits) < k:
                return _top(best, query)
            k *= 4

    def _by_distance(self, clauses: list, query: Query) -> list[int]:
        """Rings: everything within r/8 of the point, then r/4, r/2, r, stopping at the first ring
        that holds TOP practitioners (nothing outside a ring can be nearer than what it holds)."""
        for radius in (query.radius_km / 8, query.radius_km / 4, query.radius_km / 2, query.radius_km):
            q, limit = self._boxed(clauses, query, radius), 1024
            while len(hits := self._hits(q, limit)) == limit:
                limit *= 4
            best = {}
            for _, pid in hits:
                distance = nearest_km(query.lat, query.lon, self.places[pid])
                if distance <= radius:
                    best[pid] = (distance, 0)
            if len(best) >= TOP or math.isclose(radius, query.radius_km):
                return _top(best, query)
        return []


REFERENCES = (NaiveSQL, FTS5, Tantivy)
