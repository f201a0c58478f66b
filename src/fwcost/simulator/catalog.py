"""The synthetic account's cast: API keys, models, deployments, a training job, and the usage
streams that tie them together. Built once, deterministically, from the config's seed.

A stream is one source of usage that the simulator meters per 15-minute slot: one key × one
model (× batch or not), a keyless trickle, one deployment, one training job, or a product that
is billed but never shows up in billingUsage (embeddings, images).
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from fwcost.simulator import prices
from fwcost.simulator.config import SimulatorConfig, models_per_key
from fwcost.simulator.prices import Rate, SizeTier, TokenPrice

TEAM_PROJECTS = {
    "search": ("ranker", "query-understanding"),
    "ads": ("creative-gen", "targeting"),
    "research": ("evals", "distill"),
    "platform": ("gateway", "support-bot"),
}
TEAMS = tuple(TEAM_PROJECTS)
SPIKE_TEAM = "ads"
# Environment of key i cycles through this: half prod, a quarter each staging and dev.
ENVIRONMENT_CYCLE = ("prod", "staging", "prod", "dev")
ENVIRONMENT_VOLUME = {"prod": 10, "staging": 2, "dev": 1}
FIRST_NAMES = ("alice", "bruno", "chen", "divya", "emeka", "fatima", "goran", "hana", "ivan", "jo")

TEXT_USAGE = "TEXT_COMPLETION_INFERENCE_USAGE"
AUDIO_USAGE = "AUDIO_INFERENCE_USAGE"
DEDICATED_USAGE = "DEDICATED_DEPLOYMENT_USAGE"
TRAINING_USAGE = "TRAINING_USAGE"
EMBEDDING_USAGE = "EMBEDDING_INFERENCE_USAGE"
IMAGE_USAGE = "IMAGE_GENERATION_USAGE"

FIREWORKS_MODELS = "accounts/fireworks/models/"
ANNOTATIONS = ("team", "project", "environment")

# Names are data: whoever annotates a key or names a model may type any of these.
LONG_NAME = "team-" + "x" * 1995  # 2,000 characters
HOSTILE_NAMES = (
    "..", ".", "/", "a/b", "\\", "..\\..\\windows", "nul\x00byte", "bell\x07esc\x1b[31mred",
    "line\r\nBcc: victim@example.com", "para\u2028graph\u2029end", "tab\there",
    "overall", "audience=overall", "team=search", "%2E%2E", "~tilde",
    LONG_NAME, "🔥💸🚀" * 30, "فريق البحث", "\u202eevil\u202c", "zero\u200bwidth\ufeff",
    "<!channel>", "<@U123ABC> <!here>", "<http://evil.example|click me>",
    "*bold* _it_ ~strike~ `code` &amp; &lt;", "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","click")', "+1", "-2+3", "@SUM(A1:A2)", "\tTab", "\rCR",
)  # fmt: skip


class Kind(Enum):
    TEXT = "text"
    AUDIO = "audio"
    DEDICATED = "dedicated"
    TRAINING = "training"
    EMBEDDING = "embedding"
    IMAGE = "image"


class Activity(Enum):
    """On which home-timezone days a stream has usage."""

    ALWAYS = "always"
    WEEKDAYS = "weekdays"
    TUESDAY_THURSDAY = "tuesday-thursday"
    NEWCOMER = "newcomer"  # from new_key_day on
    QUIET = "quiet"  # until two days before new_key_day


class Profile(Enum):
    """Hour-of-day shapes; index = hours since local midnight (a 25-hour day uses all 25)."""

    INTERACTIVE = (
        2,
        2,
        1,
        1,
        1,
        2,
        3,
        5,
        8,
        10,
        11,
        12,
        12,
        12,
        11,
        10,
        10,
        9,
        8,
        6,
        5,
        4,
        3,
        3,
        2,
    )
    BATCH = (6, 6, 6, 6, 5, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6)
    REPLICAS = (1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1)
    CONSTANT = (1,) * 25


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    name: str
    user: str  # the owner's email, usageCosts' USER dimension
    team: str
    project: str
    environment: str
    activity: Activity = Activity.ALWAYS


@dataclass(frozen=True, slots=True)
class SimModel:
    name: str  # accounts/<owner>/models/<id>
    price: TokenPrice
    line_key: str  # "model" or "model_bucket" in billing/summary
    line_value: str
    caches_prompts: bool
    popularity: int  # relative volume, 1..10

    @property
    def short(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Deployment:
    deployment_id: str
    accelerator_type: str
    gpus_per_replica: int
    base_model: str
    placement: str
    team: str
    project: str
    environment: str
    activity: Activity


@dataclass(frozen=True, slots=True)
class TrainingJob:
    job_id: str
    job_type: str
    base_model: str
    accelerator_type: str
    gpus: int
    team: str
    project: str
    environment: str


@dataclass(frozen=True, slots=True)
class LineKey:
    """What identifies a billing/summary line item; quantity = raw units / unit_divisor."""

    category: str
    grouping_key: str
    grouping_value: str
    secondary_key: str = ""
    secondary_value: str = ""
    series: str = ""
    unit_divisor: int = 1


@dataclass(frozen=True, slots=True)
class Stream:
    kind: Kind
    usage_type: str
    profile: Profile
    base: tuple[int, ...]  # units per slot-weight for each measure, at factor 1
    rates: tuple[Rate, ...]  # one per measure
    line: LineKey
    team: str = ""
    project: str = ""
    environment: str = ""
    activity: Activity = Activity.ALWAYS
    seasonal: bool = True  # follows the week, growth, noise and spikes (GPU time does not)
    multiple: int = 1  # every metered quantity is a multiple of this (keeps costs whole nanos)
    key: ApiKey | None = None
    model: SimModel | None = None
    deployment: Deployment | None = None
    job: TrainingJob | None = None
    batch: bool = False


# Named catalog models first (own prices, billed by name), then size-tier catalog models.
_NAMED_MODELS = (
    ("kimi-k2p6", prices.KIMI_K2P6, 10),
    ("gpt-oss-120b", prices.GPT_OSS_120B, 9),
    ("deepseek-v3p1", prices.DEEPSEEK_V3P1, 5),
    ("gpt-oss-20b", prices.GPT_OSS_20B, 4),
)
_TIER_MODELS = (
    ("llama-v3p3-70b-instruct", prices.TIER_OVER_16B, 7),
    ("llama-v3p1-8b-instruct", prices.TIER_4B_16B, 6),
    ("mixtral-8x7b-instruct", prices.TIER_MOE_56B, 3),
    ("qwen3-1p7b", prices.TIER_UNDER_4B, 2),
    ("mixtral-8x22b-instruct", prices.TIER_MOE_176B, 2),
    ("qwen2p5-72b-instruct", prices.TIER_OVER_16B, 3),
)
# Audio is rated per second by its stream's rate; its token price is never used.
WHISPER_V3 = SimModel(
    FIREWORKS_MODELS + "whisper-v3",
    prices.tier_price("0"),
    "model",
    "whisper-v3",
    caches_prompts=False,
    popularity=1,
)
EMBEDDING_MODEL = "nomic-embed-text-v1p5"
IMAGE_MODEL = "flux-1-schnell-fp8"


def text_models(config: SimulatorConfig) -> list[SimModel]:
    """Catalog models, then the account's fine-tuned models, which are billed by size bucket."""
    rng = random.Random(f"{config.seed}-models")
    catalog = [
        SimModel(FIREWORKS_MODELS + short, price, "model", short, True, popularity)
        for short, price, popularity in _NAMED_MODELS
    ] + [
        SimModel(FIREWORKS_MODELS + short, tier.price, "model", short, True, popularity)
        for short, tier, popularity in _TIER_MODELS
    ]
    models = catalog[: config.models]
    for number in range(len(models), config.models):
        team = TEAMS[number % len(TEAMS)]
        tier: SizeTier = rng.choice(prices.SIZE_TIERS)
        name = f"accounts/{config.account_id}/models/ft-{team}-{number:03d}"
        models.append(
            SimModel(name, tier.price, "model_bucket", tier.label, False, rng.randint(1, 4))
        )
    return models


def _key_id(rng: random.Random) -> str:
    alphabet = string.digits + string.ascii_letters
    return "key_" + "".join(rng.choice(alphabet) for _ in range(16))


def api_keys(config: SimulatorConfig) -> list[ApiKey]:
    """Key 0 is the admin caller, key 1 the readonly caller; the last key is new, the one
    before it goes quiet; every 9th key sends no annotations at all."""
    rng = random.Random(f"{config.seed}-keys")
    keys: list[ApiKey] = []
    numbers: dict[tuple[str, str], int] = {}
    for index in range(config.keys):
        team = TEAMS[index % len(TEAMS)]
        environment = ENVIRONMENT_CYCLE[(index // len(TEAMS)) % len(ENVIRONMENT_CYCLE)]
        project = TEAM_PROJECTS[team][(index // 2) % 2]
        user = f"{FIRST_NAMES[index % len(FIRST_NAMES)]}.{team}@{config.account_id}.example"
        activity = Activity.ALWAYS
        if index == config.keys - 1:
            activity = Activity.NEWCOMER
        elif index == config.keys - 2:
            activity = Activity.QUIET
        if index % 9 == 8 and activity is Activity.ALWAYS:
            name = f"notebook-{user.split('.', 1)[0]}-{index}"
            keys.append(ApiKey(_key_id(rng), name, user, "", "", "", activity))
            continue
        numbers[(environment, team)] = numbers.get((environment, team), 0) + 1
        name = f"{environment}-{team}-{numbers[(environment, team)]}"
        keys.append(ApiKey(_key_id(rng), name, user, team, project, environment, activity))
    return keys


def deployments() -> list[Deployment]:
    llama_70b, qwen_72b, deepseek = (
        FIREWORKS_MODELS + name
        for name in ("llama-v3p3-70b-instruct", "qwen2p5-72b-instruct", "deepseek-v3p1")
    )
    # fmt: off
    return [
        Deployment("search-ranker-prod", "NVIDIA_H100_80GB", 2, llama_70b, "US_IOWA_1",
                   "search", "ranker", "prod", Activity.ALWAYS),
        Deployment("ads-creative-prod", "NVIDIA_A100_80GB", 4, qwen_72b, "US",
                   "ads", "creative-gen", "prod", Activity.ALWAYS),
        Deployment("ads-creative-staging", "NVIDIA_A100_80GB", 1, qwen_72b, "EUROPE",
                   "ads", "creative-gen", "staging", Activity.WEEKDAYS),
        # Nobody annotated this one: its cost must still be reported, as unattributed.
        Deployment("eval-sandbox", "NVIDIA_H100_80GB", 1, deepseek, "GLOBAL",
                   "", "", "", Activity.WEEKDAYS),
    ]
    # fmt: on


def training_jobs(config: SimulatorConfig) -> list[TrainingJob]:
    base_model = FIREWORKS_MODELS + "llama-v3p1-8b-instruct"
    job_id = f"sftj-{config.account_id}-distill-01"
    return [
        TrainingJob(job_id, "SUPERVISED_FINE_TUNING", base_model, "NVIDIA_H100_80GB", 8,
                    "research", "distill", "dev")
    ]  # fmt: skip


def _text_line(model: SimModel, batch: bool) -> LineKey:
    secondary = ("is_batch", "true") if batch else ("", "")
    return LineKey(
        "Text Completion",
        model.line_key,
        model.line_value,
        *secondary,
        series=TEXT_USAGE,
        unit_divisor=1_000_000,
    )


def _text_stream(
    key: ApiKey | None, model: SimModel, volume: int, rng: random.Random, batch: bool = False
) -> Stream:
    prompt = max(10, volume * model.popularity)
    cached = prompt * rng.randint(10, 60) // 100 if model.caches_prompts else 0
    completion = max(1, prompt * rng.randint(10, 40) // 100)
    return Stream(
        kind=Kind.TEXT,
        usage_type=TEXT_USAGE,
        team=key.team if key else "",
        project=key.project if key else "",
        environment=key.environment if key else "",
        activity=key.activity if key else Activity.ALWAYS,
        profile=Profile.BATCH if batch else Profile.INTERACTIVE,
        base=(prompt - cached, cached, completion),
        multiple=2 if batch else 1,  # batch halves prices, so even counts keep whole nanos
        rates=model.price.rates(batch),
        line=_text_line(model, batch),
        key=key,
        model=model,
        batch=batch,
    )


def _key_streams(
    config: SimulatorConfig, keys: list[ApiKey], models: list[SimModel]
) -> list[Stream]:
    rng = random.Random(f"{config.seed}-streams")
    per_key = models_per_key(len(models))
    streams: list[Stream] = []
    audio_keys = 0
    for key in keys:
        volume = rng.choice((5, 10, 20, 50, 100, 200, 500)) * ENVIRONMENT_VOLUME.get(
            key.environment, 1
        )
        chosen = sorted(rng.sample(range(len(models)), per_key))
        streams += [_text_stream(key, models[i], volume, rng) for i in chosen]
        if key.team == "research" and key.environment == "prod":
            streams.append(_text_stream(key, models[chosen[0]], volume * 4, rng, batch=True))
        if key.project == "support-bot" and audio_keys < 3:
            audio_keys += 1
            streams.append(_audio_stream(key, rng.randint(20, 80)))
    return streams


def _audio_stream(key: ApiKey, seconds_per_weight: int) -> Stream:
    return Stream(
        kind=Kind.AUDIO,
        usage_type=AUDIO_USAGE,
        profile=Profile.INTERACTIVE,
        base=(seconds_per_weight,),
        rates=(prices.AUDIO_PER_SECOND,),
        line=LineKey("Audio Transcription", "model", WHISPER_V3.short, series=AUDIO_USAGE,
                     unit_divisor=60),
        team=key.team,
        project=key.project,
        environment=key.environment,
        activity=key.activity,
        key=key,
        model=WHISPER_V3,
    )  # fmt: skip


def _gpu_streams(config: SimulatorConfig) -> list[Stream]:
    dedicated = [
        _gpu_stream(d, Kind.DEDICATED, DEDICATED_USAGE, Profile.REPLICAS, d.activity,
                    ("Dedicated Deployment", "deployment", d.deployment_id), d.gpus_per_replica)
        for d in deployments()
    ]  # fmt: skip
    training = [
        _gpu_stream(j, Kind.TRAINING, TRAINING_USAGE, Profile.CONSTANT, Activity.TUESDAY_THURSDAY,
                    ("Fine-Tuning", "job_id", j.job_id), j.gpus)
        for j in training_jobs(config)
    ]  # fmt: skip
    return dedicated + training


def _gpu_stream(owner: Deployment | TrainingJob, kind: Kind, usage_type: str, profile: Profile,
                activity: Activity, billed_as: tuple[str, str, str], gpus: int) -> Stream:  # fmt: skip
    """GPU time: whole 15-minute slots per GPU (900 s × GPUs is the unit), rated per GPU-second
    of its accelerator, billed as GPU-hours on a line item per `billed_as` (category, grouping
    key, value), and steady: it does not follow the week, growth or spikes."""
    category, grouping_key, value = billed_as
    accelerator = owner.accelerator_type
    return Stream(
        kind=kind,
        usage_type=usage_type,
        profile=profile,
        base=(1,),
        rates=(prices.gpu_rate_per_second(accelerator),),
        line=LineKey(category, grouping_key, value, "accelerator_type", accelerator, usage_type,
                     unit_divisor=3600),
        team=owner.team,
        project=owner.project,
        environment=owner.environment,
        activity=activity,
        seasonal=False,
        multiple=900 * gpus,
        deployment=owner if isinstance(owner, Deployment) else None,
        job=owner if isinstance(owner, TrainingJob) else None,
    )  # fmt: skip


def _unmetered_streams() -> list[Stream]:
    """Billed in billing/summary but absent from billingUsage (no series: older line items)."""
    embedding_rate = Rate.per_million_tokens(prices.EMBEDDING_USD_PER_MILLION)
    return [
        Stream(Kind.EMBEDDING, EMBEDDING_USAGE, Profile.INTERACTIVE, (30_000,), (embedding_rate,),
               LineKey("Embeddings", "model", EMBEDDING_MODEL, unit_divisor=1_000_000)),
        Stream(Kind.IMAGE, IMAGE_USAGE, Profile.INTERACTIVE, (12,),
               (Rate.per_unit(prices.IMAGE_USD_PER_STEP),),
               LineKey("Image Generation", "model", IMAGE_MODEL)),
    ]  # fmt: skip


def build_streams(config: SimulatorConfig) -> tuple[list[ApiKey], list[SimModel], list[Stream]]:
    keys = api_keys(config)
    models = text_models(config)
    rng = random.Random(f"{config.seed}-keyless")
    # Usage with no API key id (and so no annotations): usageCosts calls it "unattributed".
    keyless = [_text_stream(None, models[i], 40, rng) for i in (0, len(models) - 1)]
    streams = _key_streams(config, keys, models) + keyless + _gpu_streams(config)
    streams += _unmetered_streams()
    if config.hostile_names:
        return _renamed(config.hostile_names, keys, models, streams)
    return keys, models, streams


def _renamed(
    names: Sequence[str], keys: list[ApiKey], models: list[SimModel], streams: list[Stream]
) -> tuple[list[ApiKey], list[SimModel], list[Stream]]:
    """The same account under other names (SimulatorConfig.hostile_names).

    The n-th annotated key gets team names[n], project names[n+1], environment names[n+2] and
    display name names[n+3] (cycled), so with at least len(names) annotated keys every name is
    somebody's team. Fine-tuned models and annotated GPU streams take names the same way.
    """

    def name(position: int) -> str:
        return names[position % len(names)]

    annotated = (key for key in keys if key.team)
    new_keys = {
        key.key_id: replace(key, team=name(n), project=name(n + 1), environment=name(n + 2),
                            name=name(n + 3))
        for n, key in enumerate(annotated)
    }  # fmt: skip
    fine_tuned = (model for model in models if model.line_key == "model_bucket")
    new_models = {
        model.name: replace(model, name=model.name.rsplit("/", 1)[0] + "/" + name(n))
        for n, model in enumerate(fine_tuned)
    }
    renamed: list[Stream] = []
    for n, stream in enumerate(streams):
        key = new_keys.get(stream.key.key_id) if stream.key else None
        model = new_models.get(stream.model.name, stream.model) if stream.model else None
        if key is not None:
            stream = replace(stream, key=key, team=key.team, project=key.project,
                             environment=key.environment)  # fmt: skip
        elif stream.team and stream.key is None:  # an annotated deployment or training job
            stream = replace(stream, team=name(n), project=name(n + 1), environment=name(n + 2))
        renamed.append(replace(stream, model=model))
    return (
        [new_keys.get(key.key_id, key) for key in keys],
        [new_models.get(m.name, m) for m in models],
        renamed,
    )


def stream_dimensions(stream: Stream, account_id: str) -> dict[str, str]:
    """Every billingUsage groupBy dimension that applies to the stream, with its value."""
    values = {f"annotations.{name}": str(getattr(stream, name)) for name in ANNOTATIONS}
    # The bare names are accepted as groupBy too.
    values |= {name: str(getattr(stream, name)) for name in ANNOTATIONS}
    key, model, deployment, job = stream.key, stream.model, stream.deployment, stream.job
    if model is not None:
        values["model_name"] = model.name
        values["api_key_id"] = key.key_id if key else ""
        values["api_key_name"] = key.name if key else ""
    if deployment is not None:
        values["deployment_name"] = f"accounts/{account_id}/deployments/{deployment.deployment_id}"
        values["accelerator_type"] = deployment.accelerator_type
    if job is not None:
        values |= {
            "job_id": job.job_id,
            "job_type": job.job_type,
            "usage_type": stream.usage_type,
            "accelerator_type": job.accelerator_type,
            "base_model": job.base_model,
        }
    return values
