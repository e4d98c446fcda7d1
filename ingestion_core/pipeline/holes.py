"""Holes: buckets missing below a series' watermark, found as windows are written and repaired by later runs (pure).

The watermark (``MAX(datetime)``) says where a series resumes; it cannot see a bucket missing below it. One goes
missing when its record is quarantined (a corrupt answer, a rule broken) or when an answer leaves it out, while the
buckets after it are stored. Such a bucket is a *hole*: :func:`window_holes` finds them in each written window,
they are recorded (``market.ingest_holes``) before the window's rows are committed, so a crash cannot lose one, and
each later run re-requests the open ones in the calls it makes (``windows.cover_windows``). A hole a window brings
back is cleared after the rows are committed; one it does not bring back counts one more attempt, and at
``INGEST_HOLE_ATTEMPTS`` it is permanent: no longer requested, still reported.

==============================================  =================================================================
in the window's answer                           what happens
==============================================  =================================================================
bucket stored                                    a known hole there is cleared (after the commit)
bucket quarantined                               a hole (reason: the rule), attempts + 1
bucket absent, after the answer's first bucket   a hole ("not in the API's answer"), attempts + 1
bucket absent, before the answer's first bucket  nothing: the series' data starts later
==============================================  =================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ingestion_core.db.holes import ABSENT, Hole
from ingestion_core.windows import bucket_range


@dataclass(frozen=True, slots=True)
class HoleUpdate:
    """What one written window changes in a series' holes.

    Attributes:
        missing: holes to record (new ones with one attempt, known ones with one more), before the rows commit.
        filled: known holes the window stored, to clear once the rows are committed.
    """

    missing: tuple[Hole, ...] = ()
    filled: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.filled)


@dataclass(frozen=True, slots=True)
class WindowAnswer:
    """What a window's answer held, as far as holes go.

    Attributes:
        start: the window's first bucket.
        end: the window's last bucket.
        stored: buckets the parsed frame holds (sorted).
        rejected: buckets of quarantined records inside the window, with the rule each broke.
    """

    start: int
    end: int
    stored: Sequence[int]
    rejected: Mapping[int, str] = field(default_factory=dict)


def window_holes(answer: WindowAnswer, unit: int, known: Mapping[int, Hole]) -> HoleUpdate:
    """The holes one written window leaves, fills or misses again.

    Args:
        answer: what the window's answer held.
        unit: bucket length in seconds.
        known: the series' recorded holes by bucket (any bucket; only those inside the window matter).

    Returns:
        The holes to record and the known holes to clear.
    """
    stored = set(answer.stored)
    seen = [b for b in (*stored, *answer.rejected) if answer.start <= b <= answer.end]
    filled = tuple(sorted(b for b in known if b in stored))
    if not seen:
        return HoleUpdate(filled=filled)
    first = min(seen)
    expected = (answer.end - first) // unit + 1
    if len(stored) == expected and not answer.rejected:  # the common case: every bucket from the first is there
        return HoleUpdate(filled=filled)
    missing = []
    for bucket in bucket_range(first, answer.end, unit):
        if bucket in stored:
            continue
        before = known.get(bucket)
        attempts = 1 if before is None else before.attempts + 1
        missing.append(Hole(bucket, attempts, answer.rejected.get(bucket, ABSENT)))
    return HoleUpdate(missing=tuple(missing), filled=filled)


def open_holes(holes: Iterable[Hole], max_attempts: int) -> list[Hole]:
    """The holes a run still requests, oldest first."""
    return sorted((h for h in holes if not h.permanent(max_attempts)), key=lambda h: h.bucket)
