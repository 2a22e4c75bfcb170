"""Request and response shapes of the listening endpoints (tertulia.api.routers.listening_*).

Limits mirror the listening actions' own (`tertulia.listening.actions.*`) and the query parser's:
a query up to `MAX_BODY_QUERY` characters reaches the parser, which answers a positioned
`too_long` error beyond its own limit; longer text is refused with 422 before anything runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema

from tertulia.api.schemas import MAX_ID, MAX_POSITIVE_INT, Input, Moment, Patch, Text
from tertulia.inbox.models.conversation import Sentiment
from tertulia.listening.actions.alerts import MAX_THRESHOLD, MAX_WINDOW_MINUTES
from tertulia.listening.actions.queries import MAX_NAME
from tertulia.listening.models import AlertKind, QueryGroup, SourceKind
from tertulia.listening.query.parser import MAX_QUERY_CHARS

RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_POSITIVE_INT)]
MAX_BODY_QUERY = 2 * MAX_QUERY_CHARS
MAX_DAYS = 365
MAX_RECIPIENTS = 100

QUERY_TEXT = (
    "The boolean query (docs/listening.md#query-language), stored exactly as written. One the parser "
    "refuses is 422 `invalid_query` with the positioned `error`."
)

# ---------------------------------------------------------------- validating a query


class QueryErrorOut(Schema):
    code: str = Field(description="What is wrong, for programs: `unexpected`, `unmatched_paren`, `too_long`…")
    message: str = Field(description="What is wrong, for people, in the caller's language.")
    position: int = Field(description="Where the problem starts: an offset in the query, in code points.")
    length: int = Field(description="How many code points the problem spans (at least 1).")
    expected: list[str] = Field(description="What could have come there instead, when that is known.")


class QueryWarningOut(Schema):
    code: str
    position: int = Field(description="Offset in the query, in code points.")
    message: str


class ValidateIn(Input):
    query: Text = Field(..., max_length=MAX_BODY_QUERY, description="The query to check; nothing is saved.")


class ValidateOut(Schema):
    valid: bool
    tree: dict[str, Any] | None = Field(
        None,
        description=(
            "When valid: the parse as plain data. Each node has `type` (`and`, `or`, `not`, `near`, `word`, "
            "`phrase`, `hashtag`, `mention`, `field`, `followers`) and `position`; operators hold "
            "`operands` (or `operand`, or `left`/`right` with `distance` and `ordered`)."
        ),
    )
    terms: int | None = Field(None, description="When valid: how many terms the query has.")
    warnings: list[QueryWarningOut] = Field(
        default_factory=list,
        description="When valid: what may not mean what was meant (e.g. lower-case `or`).",
    )
    error: QueryErrorOut | None = Field(None, description="When not valid: where and what.")


# ---------------------------------------------------------------- saved queries


class ListeningQueryOut(Schema):
    id: int
    brand_id: int
    name: str
    group: QueryGroup
    text: str
    is_active: bool
    version: int = Field(description="Send it back with a change: 409 `version_conflict` if it moved on.")
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class ListeningQueryIn(Input):
    brand_id: RecordId = Field(description="The brand the query listens for.")
    name: Text = Field(..., min_length=1, max_length=MAX_NAME, description="Unique per brand.")
    text: Text = Field(..., max_length=MAX_BODY_QUERY, description=QUERY_TEXT)
    group: QueryGroup = Field(
        QueryGroup.BRAND, description="The brand itself, a competitor or an industry topic."
    )
    is_active: bool = True


class ListeningQueryPatch(Patch):
    version: Version = Field(
        description=(
            "The version you read. If someone saved the query since, nothing is written and the answer is "
            "409 `version_conflict` with the current `version`."
        )
    )
    name: Text | None = Field(None, min_length=1, max_length=MAX_NAME)
    text: Text | None = Field(None, max_length=MAX_BODY_QUERY, description=QUERY_TEXT)
    group: QueryGroup | None = None
    is_active: bool | None = None


class ListeningQueryFilter(Schema):
    brand_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this brand's queries.")
    group: QueryGroup | None = Field(None, description="Only this group.")
    active: bool | None = Field(None, description="Only queries switched on (true) or off (false).")


# ---------------------------------------------------------------- what listening found


class PeriodFilter(Schema):
    since: Moment | None = Field(None, description="From this time (default: 7 days before `until`).")
    until: Moment | None = Field(None, description="Up to this time, not included (default: now).")


class MentionFilter(PeriodFilter):
    since: Moment | None = Field(None, description="Only mentions published at or after this.")
    until: Moment | None = Field(None, description="Only mentions published before this.")
    sentiment: Sentiment | None = Field(None, description="Only this sentiment.")


class MentionOut(Schema):
    id: int
    network: str
    remote_id: str
    url: str
    author_handle: str
    author_name: str
    author_followers: int | None
    channel_name: str = Field(description="The channel or feed it came through.")
    text: str = Field(description="Exactly as received; escape it wherever it is shown.")
    published_at: datetime
    language: str
    sentiment: str
    sentiment_score: float
    intent: str
    source_id: int | None = Field(
        description="The organization's source that brought it; null: a channel or the firehose."
    )
    matched_at: datetime = Field(description="When this query matched it.")
    backfilled: bool = Field(description="Found by a backfill over stored history, not live.")


class VolumePoint(Schema):
    at: datetime = Field(description="The hour or day's start, in the brand's time zone.")
    count: int


class SentimentShare(Schema):
    negative: int
    neutral: int
    positive: int
    total: int


class AuthorOut(Schema):
    handle: str
    name: str
    network: str
    followers: int | None
    mentions: int


class TermOut(Schema):
    text: str = Field(description="The word, folded (lower case, no accents).")
    recent: int = Field(description="Mentions using it in the period.")
    before: int = Field(description="Mentions using it in the equally long period before.")
    score: float


class InsightOut(Schema):
    query_id: int
    since: datetime
    until: datetime
    timezone: str = Field(description="The brand's time zone, in which the volume is bucketed.")
    hourly: bool = Field(description="Two days or less are bucketed by the hour, longer periods by the day.")
    volume: list[VolumePoint]
    sentiment: SentimentShare
    top_authors: list[AuthorOut] = Field(description="Widest reach first (at most 10).")
    rising_terms: list[TermOut] = Field(description="Words used far more than before (at most 15).")


class VoiceOut(Schema):
    query_id: int
    name: str
    group: QueryGroup
    mentions: int
    share: float = Field(description="Of all the brand's and competitors' matches in the period, 0..1.")


class ShareOfVoiceOut(Schema):
    brand_id: int
    since: datetime
    until: datetime
    total: int
    queries: list[VoiceOut] = Field(description="The brand's and competitors' queries, most mentioned first.")


# ---------------------------------------------------------------- backtests


class BacktestIn(Input):
    days: int = Field(30, ge=1, le=MAX_DAYS, description="How far back to look, in days.")


class UnsavedBacktestIn(BacktestIn):
    query: Text = Field(..., max_length=MAX_BODY_QUERY, description="The query to try; nothing is saved.")


class DayCount(Schema):
    day: date
    count: int


class BacktestSampleOut(Schema):
    network: str
    remote_id: str
    text: str
    published_at: datetime
    url: str
    author_handle: str
    author_name: str
    author_followers: int | None
    language: str
    channel_name: str
    sentiment: str | None


class BacktestOut(Schema):
    since: datetime
    checked: int = Field(description="Stored mentions and channel messages read.")
    matched: int
    truncated: bool = Field(description="More history than a backtest reads: only the newest was checked.")
    by_day: list[DayCount] = Field(
        description="Matches per day (UTC), oldest first; days without matches are left out."
    )
    sample: list[BacktestSampleOut] = Field(description="The newest matches (at most 20).")


class BackfillOut(Schema):
    since: datetime
    added: int = Field(description="Stored mentions and channel messages newly linked to the query.")


# ---------------------------------------------------------------- alerts


class AlertOut(Schema):
    id: int
    query_id: int
    kind: AlertKind
    threshold: int
    window_minutes: int
    minimum_mentions: int
    recipients: list[int] = Field(description="User ids of who is told.")
    is_active: bool
    last_fired_at: datetime | None
    created_at: datetime


class AlertIn(Input):
    kind: AlertKind = Field(
        AlertKind.VOLUME,
        description="`volume`: mentions in the window above `threshold`; `negative_share`: percent negative.",
    )
    threshold: int = Field(..., ge=0, le=MAX_THRESHOLD, description="Mentions, or a percentage from 1 to 99.")
    window_minutes: int = Field(60, ge=5, le=MAX_WINDOW_MINUTES, description="From 5 minutes to 7 days.")
    minimum_mentions: int = Field(
        10, ge=1, le=MAX_THRESHOLD, description="Below this many mentions in the window, no alert."
    )
    recipients: list[RecordId] = Field(
        ..., max_length=MAX_RECIPIENTS, description="User ids of active members of the organization."
    )


# ---------------------------------------------------------------- sources


class SourceOut(Schema):
    id: int
    kind: SourceKind
    name: str
    url: str
    hashtag: str
    is_active: bool
    last_read_at: datetime | None
    last_error: str
    created_at: datetime


class SourceIn(Input):
    kind: SourceKind = Field(description="`feed` (RSS or Atom), `mastodon_public` or `mastodon_hashtag`.")
    url: Text = Field(
        ..., min_length=1, max_length=500, description="The feed's address, or the Mastodon server's."
    )
    name: Text = Field(
        "", max_length=500, description="Empty: made from the address (cut to 120 characters)."
    )
    hashtag: Text = Field("", max_length=101, description="For `mastodon_hashtag`: as `vino` or `#vino`.")


class SourcePatch(Patch):
    is_active: bool | None = Field(None, description="Switch the source off (false) or on again (true).")
