r"""The verifiable "double random" draw (双随机抽取), in the spirit of RFC 3797. Pure: no database, no files.

Anyone can redo a draw by hand from its published record with nothing but ``sha256sum`` and shell arithmetic.

The procedure
=============

1. **Pool.** Before the draw the office freezes the candidate pool: the inspection item (ratios per risk grade,
   inspectors per object), the inspection objects (mines: ``key`` = licence number, ``grade`` = high / medium /
   low) sorted by key, the inspectors (``key`` = certificate code, ``unit``) sorted by key, the recusals
   (inspector, object, reason) declared before the draw, and the *pre-announced* public seed source
   (``seed_source``, e.g. "中国福利彩票双色球第2026140期开奖号码") with the earliest time its value may come from
   (``seed_not_before``), and the publication time (``published_at``). The pool is serialised canonically —
   JSON with keys sorted, no spaces (separators ``,`` and ``:``), UTF-8 without escaping Chinese — and its
   SHA-256 (``pool_sha256``, lowercase hex) is published. The item code and the draw code name the record;
   a redo names the draw it supersedes and why (``supersedes``), so an old draw is never silently replaced.

2. **Seed.** After publication, the value of the announced public source is entered as a string ``SEED``
   (leading and trailing blanks removed, nothing else changed). A value produced before the publication is
   refused.

3. **Random numbers.** For counter ``c = 1, 2, 3, …`` compute::

       H_c = SHA-256( "<pool_sha256>|<SEED>|<c>" )        # the string in UTF-8, no newline
       X_c = the first 12 hex digits of H_c as an integer  # 0 ≤ X_c < 2^48

   By hand: ``printf '%s' "$POOL|$SEED|$c" | sha256sum | cut -c1-12`` then ``echo $((16#<digits>))``.

4. **Choosing one of n candidates** (rejection sampling, so that no candidate is favoured by the modulo):
   take the next ``X_c``; if ``X_c ≥ 2^48 − (2^48 mod n)`` discard it and take the next counter; otherwise the
   chosen index is ``X_c mod n`` (0-based) into the candidate list *in its current sorted order*. The chosen
   candidate is removed from the list before the next choice (drawing without replacement).

5. **Objects.** For each grade in the order high, medium, low: the candidates are the pool's objects of that
   grade sorted by key; ``k = ceil(n × ratio% / 100)`` of them are chosen by step 4, one after the other.

6. **Inspectors.** For each chosen object, in the order of the object keys: the candidates are the pool's
   inspectors sorted by key *minus those recused for that object*; ``inspectors_per_object`` (≥ 2) of them
   are chosen by step 4. The counter continues from step 5 — one stream for the whole draw.

7. **Verification.** :func:`verify_record` checks the pool hash, that ``published_at`` is the one frozen in the
   pool, that the seed came from the announced source after publication, that the result follows from pool and
   seed step by step, that every object has ≥ 2 distinct inspectors none of whom is recused for it, and the
   result's hash. Each failure names the field (``pool``, ``pool_sha256``, ``seed.value`` …).

The result lists every step (counter, 12 hex digits, X, n, index, rejected or chosen) so that the hand check can
follow it line by line; :func:`verify_record` re-derives everything from the record alone.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

POOL_FORMAT = "subsidence-draw-pool/1"
RESULT_FORMAT = "subsidence-draw-result/1"
RECORD_FORMAT = "subsidence-draw-record/1"
GRADES = ("high", "medium", "low")
HEX_DIGITS = 12
SPACE = 16**HEX_DIGITS  # 2^48
MIN_INSPECTORS = 2


class DrawError(ValueError):
    """The pool, seed or record cannot produce a valid draw (message names the field)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def canonical_json(obj: Any) -> bytes:
    """The canonical serialisation hashed by the draw (sorted keys, no spaces, UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def normalise_seed(value: str) -> str:
    seed = str(value).strip()
    if not seed:
        raise DrawError("the seed is empty; enter the value published by the announced source", "seed.value")
    return seed


# --------------------------------------------------------------------------------------- the pool


def make_pool(
    *,
    draw: str,
    item: dict[str, Any],
    objects: list[dict[str, Any]],
    inspectors: list[dict[str, Any]],
    recusals: list[dict[str, Any]],
    seed_source: str,
    seed_not_before: str,
    published_at: str,
    supersedes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the frozen, sorted pool and check that the draw is feasible whatever the seed.

    ``item``: {code, name, ratios_pct: {high, medium, low}, inspectors_per_object}.
    ``objects``: [{key, name, grade}]; ``inspectors``: [{key, unit}]; ``recusals``: [{inspector, object, reason}].
    """
    m = int(item.get("inspectors_per_object", MIN_INSPECTORS))
    if m < MIN_INSPECTORS:
        raise DrawError(
            f"at least {MIN_INSPECTORS} inspectors per object are required (item has {m})", "item.inspectors_per_object"
        )
    ratios = {g: int(item["ratios_pct"][g]) for g in GRADES}
    for g, r in ratios.items():
        if not 0 <= r <= 100:
            raise DrawError(f"ratio for {g} must be 0–100 %, got {r}", f"item.ratios_pct.{g}")
    if not seed_source.strip():
        raise DrawError("announce the public seed source with the pool", "seed_source")
    objs = sorted(
        ({"key": str(o["key"]), "name": str(o.get("name") or ""), "grade": str(o["grade"])} for o in objects),
        key=lambda o: o["key"],
    )
    keys = [o["key"] for o in objs]
    if len(set(keys)) != len(keys):
        raise DrawError("duplicate object keys in the pool", "pool.objects")
    for o in objs:
        if o["grade"] not in GRADES:
            raise DrawError(f"object {o['key']}: grade {o['grade']!r} not one of {GRADES}", "pool.objects")
    insps = sorted(
        ({"key": str(i["key"]), "unit": str(i.get("unit") or "")} for i in inspectors), key=lambda i: i["key"]
    )
    ikeys = {i["key"] for i in insps}
    if len(ikeys) != len(insps):
        raise DrawError("duplicate inspector keys in the pool", "pool.inspectors")
    recs = sorted(
        ({"inspector": str(r["inspector"]), "object": str(r["object"]), "reason": str(r["reason"])} for r in recusals),
        key=lambda r: (r["object"], r["inspector"]),
    )
    pool = {
        "format": POOL_FORMAT,
        "draw": draw,
        "item": {
            "code": str(item["code"]),
            "name": str(item.get("name") or ""),
            "ratios_pct": ratios,
            "inspectors_per_object": m,
        },
        "objects": objs,
        "inspectors": insps,
        "recusals": [r for r in recs if r["inspector"] in ikeys and r["object"] in set(keys)],
        "seed_source": seed_source.strip(),
        "seed_not_before": seed_not_before,
        "published_at": published_at,
        "supersedes": supersedes,
    }
    short = [(o["key"], n) for o in objs if (n := len(eligible_inspectors(pool, o["key"]))) < m]
    if short:
        listing = ", ".join(f"{k} ({n} eligible)" for k, n in short)
        raise DrawError(
            f"fewer eligible inspectors than the {m} required for: {listing}; "
            "add inspectors to the directory or review the recusals",
            "pool.inspectors",
        )
    if any(quota(pool, g) for g in GRADES) and not objs:
        raise DrawError("the object directory is empty", "pool.objects")
    return pool


def quota(pool: dict[str, Any], grade: str) -> int:
    """Number of objects of ``grade`` to draw: ceil(n × ratio / 100)."""
    n = sum(1 for o in pool["objects"] if o["grade"] == grade)
    return math.ceil(n * pool["item"]["ratios_pct"][grade] / 100)


def eligible_inspectors(pool: dict[str, Any], object_key: str) -> list[str]:
    """Inspectors (sorted keys) not recused for ``object_key`` (recusal applied before the draw)."""
    recused = {r["inspector"] for r in pool["recusals"] if r["object"] == object_key}
    return [i["key"] for i in pool["inspectors"] if i["key"] not in recused]


# --------------------------------------------------------------------------------------- the stream


@dataclass
class Step:
    counter: int
    hex12: str
    x: int
    n: int
    index: int | None  #: None when rejected
    picked: str | None
    stage: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "counter": self.counter,
            "hex12": self.hex12,
            "x": self.x,
            "n": self.n,
            "index": self.index,
            "picked": self.picked,
            "stage": self.stage,
        }


def stream(pool_sha256: str, seed: str) -> Iterator[tuple[int, str, int]]:
    """(counter, first 12 hex digits, X) for c = 1, 2, ...: SHA-256 of ``"<pool_sha256>|<seed>|<c>"``."""
    c = 0
    while True:
        c += 1
        h = sha256_hex(f"{pool_sha256}|{seed}|{c}")[:HEX_DIGITS]
        yield c, h, int(h, 16)


def _choose(rng: Iterator[tuple[int, str, int]], candidates: list[str], steps: list[Step], stage: str) -> str:
    n = len(candidates)
    limit = SPACE - (SPACE % n)
    while True:
        c, h, x = next(rng)
        if x >= limit:
            steps.append(Step(c, h, x, n, None, None, stage))
            continue
        idx = x % n
        picked = candidates.pop(idx)
        steps.append(Step(c, h, x, n, idx, picked, stage))
        return picked


def derive(pool: dict[str, Any], seed: str) -> dict[str, Any]:
    """The result of the draw: chosen objects (in order of choice) with their inspectors, and every step."""
    pool_sha = sha256_hex(canonical_json(pool))
    seed = normalise_seed(seed)
    rng = stream(pool_sha, seed)
    steps: list[Step] = []
    chosen: list[dict[str, Any]] = []
    for g in GRADES:
        cands = [o["key"] for o in pool["objects"] if o["grade"] == g]
        for _ in range(quota(pool, g)):
            chosen.append({"key": _choose(rng, cands, steps, f"object:{g}"), "grade": g})
    m = pool["item"]["inspectors_per_object"]
    assignment: dict[str, list[str]] = {}
    for key in sorted(o["key"] for o in chosen):
        cands = eligible_inspectors(pool, key)
        if len(cands) < m:
            raise DrawError(f"object {key}: {len(cands)} eligible inspectors, {m} required", "pool.inspectors")
        assignment[key] = [_choose(rng, cands, steps, f"inspector:{key}") for _ in range(m)]
    for o in chosen:
        o["inspectors"] = assignment[o["key"]]
    return {
        "format": RESULT_FORMAT,
        "pool_sha256": pool_sha,
        "seed_sha256": sha256_hex(seed),
        "objects": chosen,
        "steps": [s.as_dict() for s in steps],
    }


# --------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Discrepancy:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def _ts(value: Any, fieldname: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise DrawError(f"{fieldname}: {value!r} is not an ISO 8601 time", fieldname) from None
    if t.tzinfo is None:
        raise DrawError(f"{fieldname}: {value!r} has no time zone", fieldname)
    return t


def verify_record(record: dict[str, Any]) -> list[Discrepancy]:
    """Re-derive a draw from its record alone; returns the problems found (empty: the record is intact).

    Checks: the pool's hash; that the seed came from the announced source after publication; that the seed's
    hash is the one the result was derived from; that the result follows from pool and seed; that no object
    has fewer than two inspectors or a recused inspector; and the result's hash.
    """
    probs: list[Discrepancy] = []
    try:
        if record.get("format") != RECORD_FORMAT:
            return [
                Discrepancy("format", f"not a draw record (format {record.get('format')!r}, expected {RECORD_FORMAT})")
            ]
        for key in ("pool", "pool_sha256", "published_at", "seed", "result", "result_sha256"):
            if key not in record or record[key] in (None, ""):
                return [Discrepancy(key, f"field {key!r} is missing: the record is incomplete (was the draw run?)")]
        pool, seed, result = record["pool"], record["seed"], record["result"]
        computed_pool = sha256_hex(canonical_json(pool))
        if computed_pool != record["pool_sha256"]:
            if record["pool_sha256"] == result.get("pool_sha256"):
                probs.append(
                    Discrepancy(
                        "pool",
                        f"the pool does not hash to the published pool_sha256 "
                        f"({computed_pool} ≠ {record['pool_sha256']}): the pool was changed",
                    )
                )
            else:
                probs.append(
                    Discrepancy(
                        "pool_sha256",
                        f"pool_sha256 {record['pool_sha256']} is not the hash of the "
                        f"pool ({computed_pool}): the published hash was changed",
                    )
                )
        published = _ts(record["published_at"], "published_at")
        if record["published_at"] != pool.get("published_at"):
            probs.append(
                Discrepancy(
                    "published_at",
                    f"published_at {record['published_at']} differs from the time "
                    f"frozen in the pool ({pool.get('published_at')})",
                )
            )
        entered = _ts(seed.get("entered_at"), "seed.entered_at")
        source_time = _ts(seed.get("source_time"), "seed.source_time")
        not_before = _ts(pool.get("seed_not_before"), "pool.seed_not_before")
        if seed.get("source") != pool.get("seed_source"):
            probs.append(
                Discrepancy(
                    "seed.source",
                    f"seed source {seed.get('source')!r} is not the source announced "
                    f"in the pool ({pool.get('seed_source')!r})",
                )
            )
        if entered <= published:
            probs.append(
                Discrepancy(
                    "seed.entered_at",
                    f"seed entered {entered.isoformat()} not after the pool was published {published.isoformat()}",
                )
            )
        if source_time <= published or source_time < not_before:
            probs.append(
                Discrepancy(
                    "seed.source_time",
                    f"the seed value dates from {source_time.isoformat()}, "
                    "before the pool was published / the announced time",
                )
            )
        try:
            seed_value = normalise_seed(seed.get("value", ""))
        except DrawError as exc:
            return probs + [Discrepancy("seed.value", str(exc))]
        if sha256_hex(seed_value) != result.get("seed_sha256"):
            probs.append(
                Discrepancy(
                    "seed.value",
                    "the seed is not the one the result was derived from (its SHA-256 differs from result.seed_sha256)",
                )
            )
        derived = derive(pool, seed_value)
        for key in ("objects", "steps", "pool_sha256", "seed_sha256", "format"):
            if derived.get(key) != result.get(key):
                probs.append(
                    Discrepancy(
                        f"result.{key}",
                        f"result.{key} does not follow from the pool and the seed "
                        f"(re-derived: {json.dumps(derived.get(key), ensure_ascii=False)[:300]})",
                    )
                )
        m = pool["item"]["inspectors_per_object"]
        recused = {(r["inspector"], r["object"]) for r in pool["recusals"]}
        for o in result.get("objects", []):
            ins = o.get("inspectors", [])
            if len(set(ins)) < max(m, MIN_INSPECTORS):
                probs.append(
                    Discrepancy(
                        "result.objects",
                        f"object {o.get('key')}: {len(set(ins))} inspectors, "
                        f"at least {max(m, MIN_INSPECTORS)} required",
                    )
                )
            for i in ins:
                if (i, o.get("key")) in recused:
                    probs.append(
                        Discrepancy("result.objects", f"inspector {i} declared a conflict with {o.get('key')}")
                    )
        if sha256_hex(canonical_json(result)) != record["result_sha256"]:
            probs.append(
                Discrepancy(
                    "result_sha256" if not any(p.field.startswith("result.") for p in probs) else "result",
                    "result_sha256 is not the hash of the result",
                )
            )
        if record.get("drawn_at") and _ts(record["drawn_at"], "drawn_at") < entered:
            probs.append(Discrepancy("drawn_at", "the draw was run before its seed was entered"))
    except DrawError as exc:
        probs.append(Discrepancy(exc.field or "record", str(exc)))
    except (KeyError, TypeError, AttributeError) as exc:
        probs.append(Discrepancy("record", f"malformed record: {exc!r}"))
    return probs
