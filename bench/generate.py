"""The benchmark's synthetic catalog, written into the benchmark's own database.

    DATABASE_URL=sqlite:///bench-data/bench.sqlite3 .venv/bin/python bench/generate.py --exercises N

writes N exercises, N/10 summits, N/20 crises, 40 states (real ISO codes; existing State rows are
reused as they are), their memberships, 50 exercise series, 200 sources and two citations per record.
The same seed gives the same keys and values. Every record it writes that has a key has one starting
with `syn-`: that is how a synthetic catalog is recognised (the script refuses to write a second one
over it). Rows go in with `bulk_create` in batches, without history. bench/run.py runs it against a
throwaway database; nothing in the site knows about it.
"""

import argparse
import datetime
import os
import random
import sys
from pathlib import Path

import django

if __name__ == "__main__":  # run as a script: Django set up before the catalog's models are imported
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402 (after django.setup())
from django.db import transaction  # noqa: E402
from django.utils import translation  # noqa: E402
from django_countries import countries  # noqa: E402
from tqdm import tqdm  # noqa: E402

from catalog.models import (  # noqa: E402
    Citation,
    Crisis,
    Exercise,
    ExerciseSeries,
    Membership,
    Response,
    Role,
    Source,
    SourceKind,
    SourceLanguage,
    State,
    Summit,
    SummitKind,
)

BATCH_SIZE = 5_000
STATE_COUNT = 40
SERIES_COUNT = 50
SOURCE_COUNT = 200
CITATIONS_PER_RECORD = 2
# Exercises spread evenly over 30 years, so a three-year filter selects a tenth of them.
FIRST_YEAR, LAST_YEAR = 1995, 2024
# The member states take part far more often than the other 31 states.
CORE_STATES = ("RU", "AM", "BY", "KZ", "KG", "TJ", "UZ", "AZ", "GE")
#: The start of the key of every keyed record the script writes.
PREFIX = "syn-"

SERIES_NAMES = (
    ("防线", "Rubezh"),
    ("通道", "Kanal"),
    ("互动", "Interaction"),
    ("搜索", "Search"),
    ("梯队", "Echelon"),
    ("牢不可破的兄弟情谊", "Indestructible Brotherhood"),
    ("雷霆", "Thunder"),
    ("边界", "Frontier"),
    ("盾牌", "Shield"),
    ("山口", "Pass"),
)
PLACES = (
    ("阿拉木图", "Almaty"),
    ("杜尚别", "Dushanbe"),
    ("比什凯克", "Bishkek"),
    ("埃里温", "Yerevan"),
    ("明斯克", "Minsk"),
    ("莫斯科", "Moscow"),
    ("奥什", "Osh"),
    ("奥伦堡", "Orenburg"),
    ("马特卡", "Matka"),
    ("巴拉诺维奇", "Baranovichi"),
)
PURPOSES = (
    ("反恐行动", "counter-terrorism operations"),
    ("边境防御", "border defence"),
    ("维和任务", "peacekeeping"),
    ("打击贩毒", "counter-narcotics raids"),
    ("空中防御", "air defence"),
    ("快速部署", "rapid deployment"),
)
SENTENCES_ZH = (
    "多国部队在山地地形中进行了联合演练。",
    "演习包括指挥所阶段和实兵阶段。",
    "各方评估了快速反应部队的协同能力。",
    "观察员来自多个伙伴国家和国际组织。",
    "演习结束后举行了总结会议。",
)
SENTENCES_EN = (
    "Multinational units trained together in mountainous terrain.",
    "The exercise had a command-post phase and a field phase.",
    "The parties assessed how the rapid reaction forces worked together.",
    "Observers came from several partner states and international organizations.",
    "A debriefing closed the exercise.",
)


class AlreadyThere(Exception):
    """The database holds a synthetic catalog already."""


def generate(exercises, seed=1, progress=False):
    """Write the catalog in one transaction; returns {kind: count}."""
    if exercises < 0:
        raise ValueError("exercises must be 0 or more")
    with transaction.atomic():
        if any(model.objects.filter(key__startswith=PREFIX).exists() for model in (Source, ExerciseSeries)):
            raise AlreadyThere("The database already holds a synthetic catalog (keys starting with syn-).")
        return Generator(exercises=exercises, seed=seed, progress=progress).run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercises", type=int, required=True, metavar="N")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    try:
        counts = generate(options.exercises, options.seed, progress=sys.stderr.isatty())
    except (AlreadyThere, ValueError) as error:
        sys.exit(str(error))
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    print(f"Wrote a synthetic catalog: {summary}.")


class Generator:
    """Builds the records in a fixed order from one seeded random stream, batch by batch, so memory
    stays flat whatever N is and the same seed always gives the same rows."""

    def __init__(self, *, exercises, seed, progress=False):
        self.exercise_count = exercises
        self.random = random.Random(seed)
        total = exercises + exercises // 10 + exercises // 20
        self.bar = tqdm(total=total, unit="records", disable=not progress, desc="synthetic catalog")
        self.citations = []
        self.citation_count = 0
        self.content_types = {}

    def run(self):
        self.sources = self.make_sources()
        self.states = self.make_states()
        self.core = [self.states[code] for code in CORE_STATES]
        self.others = [state for code, state in self.states.items() if code not in CORE_STATES]
        memberships = self.make_memberships()
        self.series = self.make_series()
        counts = {
            "exercises": self.make_exercises(),
            "summits": self.make_summits(),
            "crises": self.make_crises(),
            "states": len(self.states),
            "memberships": memberships,
            "series": len(self.series),
            "sources": len(self.sources),
        }
        self.flush_citations(force=True)
        counts["citations"] = self.citation_count
        self.bar.close()
        return counts

    # Building blocks

    def partial_date(self, year):
        """A date in `year` at year, month or day precision, and a last day at the same precision."""
        roll = self.random.random()
        if roll < 0.15:
            return str(year), ""
        month = self.random.randint(1, 12)
        if roll < 0.40:
            end = f"{year}-{month:02d}" if self.random.random() < 0.3 else ""
            return f"{year}-{month:02d}", end
        start = datetime.date(year, month, self.random.randint(1, 28))
        end = ""
        if self.random.random() < 0.7:
            end = (start + datetime.timedelta(days=self.random.randint(1, 10))).isoformat()
        return start.isoformat(), end

    def text(self, sentences, count):
        return "".join(self.random.choice(sentences) for _ in range(count))

    def pick_states(self, core_range, other_range):
        chosen = self.random.sample(self.core, self.random.randint(*core_range))
        chosen += self.random.sample(self.others, self.random.randint(*other_range))
        return chosen

    def cite(self, records):
        """Two citations of two different sources for each record."""
        model = type(records[0])
        if model not in self.content_types:
            self.content_types[model] = ContentType.objects.get_for_model(model)
        content_type = self.content_types[model]
        for record in records:
            first = self.random.randrange(len(self.sources))
            second = (first + 1 + self.random.randrange(len(self.sources) - 1)) % len(self.sources)
            for source_index, field in ((first, ""), (second, self.random.choice(("", "date", "troops")))):
                self.citations.append(
                    Citation(
                        content_type=content_type,
                        object_id=record.pk,
                        source=self.sources[source_index],
                        quote=self.text(SENTENCES_ZH, self.random.randint(1, 2)),
                        field=field,
                        section=f"§{self.random.randint(1, 20)}",
                    )
                )
        self.flush_citations()

    def flush_citations(self, force=False):
        if self.citations and (force or len(self.citations) >= BATCH_SIZE):
            Citation.objects.bulk_create(self.citations, batch_size=BATCH_SIZE)
            self.citation_count += len(self.citations)
            self.citations = []

    def write(self, model, records, links=()):
        """Write one batch of records, then their many-to-many links and citations."""
        model.objects.bulk_create(records, batch_size=BATCH_SIZE)
        for field_name, pairs in links:
            field = model._meta.get_field(field_name)
            through = field.remote_field.through
            owner, target = field.m2m_field_name(), field.m2m_reverse_field_name()
            through.objects.bulk_create(
                [
                    through(**{f"{owner}_id": records[index].pk, f"{target}_id": state.pk})
                    for index, state in pairs
                ],
                batch_size=BATCH_SIZE,
            )
        self.cite(records)

    # The catalog, kind by kind

    def make_sources(self):
        sources = []
        for index in range(1, SOURCE_COUNT + 1):
            year = self.random.randint(FIRST_YEAR, LAST_YEAR + 1)
            _place_zh, place_en = self.random.choice(PLACES)
            sources.append(
                Source(
                    key=f"{PREFIX}source-{index:04d}",
                    kind=self.random.choice(SourceKind.values),
                    title=f"Synthetic report {index} on collective security ({year})",
                    publisher=f"{place_en} Gazette",
                    published=self.partial_date(year)[0],
                    language=self.random.choice(SourceLanguage.values),
                )
            )
        Source.objects.bulk_create(sources, batch_size=BATCH_SIZE)
        return sources

    def make_states(self):
        """The nine states of the organization's history, then 31 more real codes."""
        others = sorted(code for code, _name in countries if code not in CORE_STATES)
        codes = list(CORE_STATES) + sorted(self.random.sample(others, STATE_COUNT - len(CORE_STATES)))
        existing = {state.code.code: state for state in State.objects.filter(code__in=codes)}
        new = []
        for code in codes:
            if code in existing:
                continue
            with translation.override("zh-hans"):
                name_zh = str(countries.name(code))
            with translation.override("en"):
                name_en = str(countries.name(code))
            new.append(State(code=code, name_zh=name_zh, name_en=name_en))
        State.objects.bulk_create(new, batch_size=BATCH_SIZE)
        self.new_states = {state.code.code for state in new}
        if new:
            self.cite(new)
        states = {**existing, **{state.code.code: state for state in new}}
        return {code: states[code] for code in codes}

    def make_memberships(self):
        """Consecutive, non-overlapping periods for each synthetic state: candidate or observer first,
        then member (the core states), some of them ended."""
        memberships = []
        for code, state in self.states.items():
            if code not in self.new_states:
                continue  # hand-made states keep the memberships editors gave them
            year = self.random.randint(1992, 2005)
            roles = (
                (Role.FOUNDING_SIGNATORY, Role.MEMBER)
                if code in CORE_STATES
                else (Role.OBSERVER, Role.CANDIDATE)
            )
            for number, role in enumerate(roles[: self.random.randint(1, 2)], start=1):
                end_year = year + self.random.randint(1, 8)
                ended = number == 1 or self.random.random() < 0.3
                memberships.append(
                    Membership(
                        key=f"{PREFIX}{code.lower()}-{role.replace('_', '-')}-{number}",
                        state=state,
                        role=role,
                        start=self.partial_date(year)[0],
                        end=str(end_year) if ended else "",
                    )
                )
                year = end_year + 1
        if memberships:
            self.write(Membership, memberships)
        return len(memberships)

    def make_series(self):
        series = []
        for index in range(1, SERIES_COUNT + 1):
            (name_zh, name_en), (place_zh, place_en) = (
                self.random.choice(SERIES_NAMES),
                self.random.choice(PLACES),
            )
            series.append(
                ExerciseSeries(
                    key=f"{PREFIX}series-{index:03d}",
                    name_zh=f"{place_zh}{name_zh}",
                    name_en=f"{name_en} {place_en}",
                    first_year=self.random.randint(FIRST_YEAR, LAST_YEAR),
                    frequency_zh="每年",
                    frequency_en="yearly",
                )
            )
        self.write(ExerciseSeries, series)
        return series

    def in_batches(self, count):
        for start in range(0, count, BATCH_SIZE):
            yield range(start + 1, min(start + BATCH_SIZE, count) + 1)

    def make_exercises(self):
        for numbers in self.in_batches(self.exercise_count):
            exercises, hosts, participants = [], [], []
            for index, number in enumerate(numbers):
                year = self.random.randint(FIRST_YEAR, LAST_YEAR)
                date, end_date = self.partial_date(year)
                series = self.random.choice(self.series) if self.random.random() < 0.6 else None
                name_zh, name_en = (
                    (series.name_zh, series.name_en) if series else self.random.choice(SERIES_NAMES)
                )
                purpose_zh, purpose_en = self.random.choice(PURPOSES)
                sentences = self.random.randint(2, 4)
                exercises.append(
                    Exercise(
                        key=f"{PREFIX}exercise-{number:06d}",
                        name_zh=f"{name_zh}-{year}（{number}）",
                        name_en=f"{name_en}-{year} ({number})",
                        description_zh=self.text(SENTENCES_ZH, sentences),
                        description_en=self.text(SENTENCES_EN, sentences),
                        series=series,
                        date=date,
                        end_date=end_date,
                        troops=self.random.randint(200, 20_000) if self.random.random() < 0.8 else None,
                        aircraft=self.random.randint(2, 80) if self.random.random() < 0.5 else None,
                        purpose_zh=purpose_zh,
                        purpose_en=purpose_en,
                    )
                )
                joined = self.pick_states((2, 5), (0, 2))
                participants += [(index, state) for state in joined]
                hosts += [(index, state) for state in joined[: self.random.choice((1, 1, 1, 2))]]
            self.write(Exercise, exercises, [("hosts", hosts), ("participants", participants)])
            self.bar.update(len(exercises))
        return self.exercise_count

    def make_summits(self):
        count = self.exercise_count // 10
        for numbers in self.in_batches(count):
            summits, participants, absentees = [], [], []
            for index, number in enumerate(numbers):
                year = self.random.randint(FIRST_YEAR, LAST_YEAR)
                date, end_date = self.partial_date(year)
                city_zh, city_en = self.random.choice(PLACES)
                attending = self.pick_states((4, 8), (0, 1))
                absent = [state for state in self.core if state not in attending]
                absent = absent[: self.random.randint(0, min(1, len(absent)))]
                summits.append(
                    Summit(
                        key=f"{PREFIX}summit-{number:05d}",
                        name_zh=f"{city_zh}峰会（{year}，{number}）",
                        name_en=f"{city_en} summit ({year}, {number})",
                        description_zh=self.text(SENTENCES_ZH, 2),
                        description_en=self.text(SENTENCES_EN, 2),
                        kind=self.random.choice(SummitKind.values),
                        date=date,
                        end_date=end_date,
                        city_zh=city_zh,
                        city_en=city_en,
                        host=attending[0],
                    )
                )
                participants += [(index, state) for state in attending]
                absentees += [(index, state) for state in absent]
            self.write(Summit, summits, [("participants", participants), ("absentees", absentees)])
            self.bar.update(len(summits))
        return count

    def make_crises(self):
        count = self.exercise_count // 20
        for numbers in self.in_batches(count):
            crises, involved, requesters = [], [], []
            for index, number in enumerate(numbers):
                year = self.random.randint(FIRST_YEAR, LAST_YEAR)
                start, end = self.partial_date(year)
                response = self.random.choice(Response.values)
                states = self.pick_states((1, 2), (0, 1))
                crises.append(
                    Crisis(
                        key=f"{PREFIX}crisis-{number:05d}",
                        name_zh=f"危机{number}（{year}）",
                        name_en=f"Crisis {number} ({year})",
                        description_zh=self.text(SENTENCES_ZH, 2),
                        description_en=self.text(SENTENCES_EN, 2),
                        start=start,
                        end=end,
                        response=response,
                        troops_deployed=(
                            self.random.randint(100, 3_000) if response == Response.DEPLOYED else None
                        ),
                    )
                )
                involved += [(index, state) for state in states]
                if self.random.random() < 0.5:
                    requesters.append((index, states[0]))
            self.write(Crisis, crises, [("states", involved), ("requested_by", requesters)])
            self.bar.update(len(crises))
        return count


if __name__ == "__main__":
    main()
