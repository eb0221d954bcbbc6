"""Synthetic students with known truth, for bench/match_accuracy.py and bench/match_speed.py.

A registry of students (families with siblings and twins, nicknames as preferred names, some
SSNs and district ids missing) and incoming records: existing students re-submitted exactly or
with one realistic slip (a scenario) and genuinely new students, some of them twins or siblings
of registry students. Each incoming record carries its true SSID ("" for a new student).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from match_names import BOYS, GIRLS, NICKNAMES, OCR, OCR_DIGITS, SURNAMES, SYLLABLES

from shared.matching.person import FIELDS
from shared.matching.ssid import new_ssid

EXISTING_SCENARIOS = {  # weight per 1000 existing records
    "exact": 250, "typo_last": 50, "typo_first": 50, "ocr_name": 40, "ocr_id": 25,
    "swapped_names": 30, "nickname": 40, "hyphenated_last": 30, "changed_last": 30,
    "dob_day_month": 40, "dob_digits": 40, "missing_ids": 50, "mistyped_ssid": 60,
    "moved_district": 60, "twin_ssid": 30, "two_slips": 75, "exact_no_ssid": 50,
}
NEW_SCENARIOS = {"fresh": 850, "new_twin": 80, "new_sibling": 70}


@dataclass
class Student:
    """A registry row in CSV text (design.md §8 columns) plus its family."""

    values: list[str]
    family: int
    twin: int | None = None  # index of the twin in the registry

    @property
    def ssid(self) -> str:
        return self.values[0]


_CUMULATIVE: dict[int, list[float]] = {}


def _zipf(rng: random.Random, names: list[str], shift: int) -> str:
    # rank r with weight 1/(r + shift): the most common name is 1-3 % of all, as in the US.
    key = id(names)
    if key not in _CUMULATIVE:
        total, cum = 0.0, []
        for r in range(len(names)):
            total += 1 / (r + shift)
            cum.append(total)
        _CUMULATIVE[key] = cum
    return rng.choices(names, cum_weights=_CUMULATIVE[key])[0]


def _synthetic(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


class Generator:
    """Reproducible students for one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.districts = [str(1000 + i * 7) for i in range(200)]
        self._dsid = 0
        self._ssn = 0

    def surname(self) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            return _zipf(rng, SURNAMES, 30).title()
        return _synthetic(rng, rng.choice((2, 3, 3, 4)))

    def first(self, gender: str) -> str:
        rng = self.rng
        if rng.random() < 0.85:
            return _zipf(rng, BOYS if gender == "M" else GIRLS, 15).title()
        return _synthetic(rng, rng.choice((2, 3)))

    def dob(self) -> dt.date:
        return dt.date(2006, 9, 1) + dt.timedelta(days=self.rng.randrange(14 * 365))

    def ssn(self) -> str:
        self._ssn += 1
        n = 100_000_000 + (self._ssn * 7919) % 700_000_000  # areas 100-799: issuable
        return f"{n // 1000000:03d}-{n // 10000 % 100 or 11:02d}-{n % 10000 or 1234:04d}"

    def dsid(self) -> str:
        self._dsid += 1
        return f"{self._dsid * 13 % 10_000_000:07d}"

    def student(self, ssid: str, last: str, gender: str, dob: dt.date, district: str,
                first: str | None = None) -> list[str]:
        rng = self.rng
        first = first or self.first(gender)
        preferred_first = NICKNAMES.get(first.lower(), "").title() if rng.random() < 0.3 else ""
        preferred_last = self.surname() if rng.random() < 0.02 else ""
        return [ssid, last, first, preferred_last, preferred_first, dob.isoformat(), gender,
                self.ssn() if rng.random() < 0.7 else "", district,
                self.dsid() if rng.random() < 0.95 else ""]

    def registry(self, n: int) -> list[Student]:
        """``n`` students in families: 3 % twins, many siblings (same surname and district)."""
        rng, out, family = self.rng, [], 0
        while len(out) < n:
            family += 1
            last, district = self.surname(), rng.choice(self.districts)
            kids = 2 if rng.random() < 0.03 else rng.choice((1, 1, 1, 2, 3))
            twins = kids == 2 and len(out) + 2 <= n and rng.random() < 0.5
            dob = self.dob()
            for k in range(kids):
                if len(out) >= n:
                    break
                gender = rng.choice("MF") if rng.random() > 0.005 else "X"
                birth = dob if twins else self.dob()
                first = self._twin_name(out[-1].values[2]) if twins and k == 1 else None
                values = self.student(new_ssid(100_000_000 + len(out)), last, gender, birth,
                                      district, first)
                out.append(Student(values, family))
                if twins and k == 1:
                    out[-1].twin, out[-2].twin = len(out) - 2, len(out) - 1
        return out

    def _twin_name(self, other: str) -> str:
        # One twin in five has a name one letter from the other's (Aiden and Aidan).
        if self.rng.random() < 0.2 and len(other) > 3:
            i = self.rng.randrange(1, len(other))
            vowel = self.rng.choice([v for v in "aeiouy" if v != other[i].lower()])
            return other[:i] + vowel + other[i + 1:]
        return self.first(self.rng.choice("MF"))

    def typo(self, name: str) -> str:
        rng = self.rng
        if len(name) < 3:
            return name + rng.choice("aeiou")
        i = rng.randrange(1, len(name) - 1)
        op = rng.choice(("sub", "del", "ins", "swap"))
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if op == "sub":
            return name[:i] + letter + name[i + 1:]
        if op == "del":
            return name[:i] + name[i + 1:]
        if op == "ins":
            return name[:i] + letter + name[i:]
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def write_csv(path: Path, rows: Iterator[list[str]] | list[list[str]]) -> None:
    """Write an ``edcs match`` CSV with its header."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(FIELDS)
        writer.writerows(rows)


@dataclass
class Incoming:
    """One submitted record and what the right answer is."""

    values: list[str]
    truth: str  # the student's SSID, "" for a new student
    scenario: str


class Slips:
    """The scenarios: how a district's record of an existing student differs from the state's."""

    def __init__(self, gen: Generator, registry: list[Student]) -> None:
        self.gen, self.rng, self.registry = gen, gen.rng, registry

    def apply(self, scenario: str, v: list[str], student: Student) -> str:
        """Change ``v`` (a copy of the student's row) by ``scenario``; returns the scenario."""
        if scenario == "two_slips":
            one, two = self.rng.sample(["typo_last", "typo_first", "nickname", "dob_day_month",
                                        "dob_digits", "moved_district", "missing_ids",
                                        "hyphenated_last", "mistyped_ssid"], 2)
            self.apply(one, v, student)
            self.apply(two, v, student)
            return "two_slips"
        getattr(self, scenario)(v, student)
        return scenario

    def exact(self, v: list[str], s: Student) -> None:
        pass

    def exact_no_ssid(self, v: list[str], s: Student) -> None:
        v[0] = ""

    def typo_last(self, v: list[str], s: Student) -> None:
        v[1] = self.gen.typo(v[1])

    def typo_first(self, v: list[str], s: Student) -> None:
        v[2] = self.gen.typo(v[2])

    def ocr_name(self, v: list[str], s: Student) -> None:
        i = self.rng.choice((1, 2))
        spots = [k for k, ch in enumerate(v[i]) if ch.lower() in OCR]
        if spots:
            k = self.rng.choice(spots)
            v[i] = v[i][:k] + OCR[v[i][k].lower()] + v[i][k + 1:]
        else:
            v[i] = self.gen.typo(v[i])

    def ocr_id(self, v: list[str], s: Student) -> None:
        i = self.rng.choice([i for i in (0, 5, 7) if any(ch in OCR_DIGITS for ch in v[i])]
                            or [2])
        spots = [k for k, ch in enumerate(v[i]) if ch in OCR_DIGITS]
        if spots:
            k = self.rng.choice(spots)
            v[i] = v[i][:k] + OCR_DIGITS[v[i][k]] + v[i][k + 1:]

    def swapped_names(self, v: list[str], s: Student) -> None:
        v[1], v[2] = v[2], v[1]
        v[3], v[4] = v[4], v[3]

    def nickname(self, v: list[str], s: Student) -> None:
        nick = NICKNAMES.get(v[2].lower())
        v[2] = nick.title() if nick else self.gen.typo(v[2])
        v[4] = ""

    def hyphenated_last(self, v: list[str], s: Student) -> None:
        other = self.gen.surname()
        v[1] = self.rng.choice((f"{v[1]}-{other}", f"{other}-{v[1]}", f"{v[1]} {other}"))

    def changed_last(self, v: list[str], s: Student) -> None:
        v[1] = self.gen.surname()
        v[3] = ""

    def dob_day_month(self, v: list[str], s: Student) -> None:
        y, m, d = v[5].split("-")
        if int(d) <= 12 and d != m:
            v[5] = f"{y}-{d}-{m}"
        else:
            self.dob_digits(v, s)

    def dob_digits(self, v: list[str], s: Student) -> None:
        """Two neighbouring digits swapped, or one digit of the year, month or day mistyped
        (a real date an SIS would take)."""
        digits = v[5].replace("-", "")
        transpose = self.rng.random() < 0.5
        for _ in range(40):
            i = self.rng.randrange(7 if transpose else 8)
            if transpose:
                changed = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
            else:
                changed = digits[:i] + self.rng.choice("0123456789") + digits[i + 1:]
            try:
                dt.date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
            except ValueError:
                continue
            if changed != digits and "1990" <= changed[:4] <= "2025":  # an SIS takes it
                v[5] = f"{changed[:4]}-{changed[4:6]}-{changed[6:]}"
                return
        v[5] = (dt.date.fromisoformat(v[5]) + dt.timedelta(days=1)).isoformat()

    def missing_ids(self, v: list[str], s: Student) -> None:
        v[0] = v[7] = ""

    def mistyped_ssid(self, v: list[str], s: Student) -> None:
        ssid = s.ssid
        if self.rng.random() < 0.5:
            i = self.rng.randrange(10)
            v[0] = ssid[:i] + self.rng.choice([d for d in "0123456789" if d != ssid[i]]) + (
                ssid[i + 1:])
        else:
            i = self.rng.randrange(9)
            v[0] = ssid[:i] + ssid[i + 1] + ssid[i] + ssid[i + 2:]
        if v[0][0] == "0":
            v[0] = "1" + v[0][1:]

    def moved_district(self, v: list[str], s: Student) -> None:
        v[8] = self.rng.choice([d for d in self.gen.districts if d != v[8]])
        v[9] = self.gen.dsid()
        if self.rng.random() < 0.5:
            v[0] = ""

    def twin_ssid(self, v: list[str], s: Student) -> None:
        if s.twin is not None:
            v[0] = self.registry[s.twin].ssid  # the sibling's SSID typed for this twin
        else:
            self.mistyped_ssid(v, s)


def incoming(gen: Generator, registry: list[Student], n: int, existing: float = 0.7
             ) -> list[Incoming]:
    """``n`` records: ``existing`` of them registry students (one scenario each), the rest new."""
    rng, slips, out = gen.rng, Slips(gen, registry), []
    twins = [i for i, s in enumerate(registry) if s.twin is not None]
    kinds, weights = zip(*EXISTING_SCENARIOS.items(), strict=True)
    new_kinds, new_weights = zip(*NEW_SCENARIOS.items(), strict=True)
    chosen = rng.sample(range(len(registry)), int(n * existing))
    for k in chosen:
        student = registry[k]
        scenario = rng.choices(kinds, weights)[0]
        if scenario == "twin_ssid":
            student = registry[rng.choice(twins)]
        v = list(student.values)
        if rng.random() < 0.4 and scenario not in ("mistyped_ssid", "twin_ssid"):
            v[0] = ""  # many districts send no SSID
        if v[7] and rng.random() < 0.15:
            v[7] = ""
        out.append(Incoming(v, student.ssid, slips.apply(scenario, v, student)))
    next_id = len(registry)
    while len(out) < n:
        scenario = rng.choices(new_kinds, new_weights)[0]
        gender = rng.choice("MF")
        if scenario == "fresh":
            v = gen.student("", gen.surname(), gender, gen.dob(), rng.choice(gen.districts))
        else:
            kin = registry[rng.choice(twins) if scenario == "new_twin" else
                           rng.randrange(len(registry))].values
            dob = dt.date.fromisoformat(kin[5]) if scenario == "new_twin" else gen.dob()
            v = gen.student("", kin[1], gender, dob, kin[8], gen._twin_name(kin[2]))
        v[0] = ""
        next_id += 1
        out.append(Incoming(v, "", scenario))
    rng.shuffle(out)
    return out
