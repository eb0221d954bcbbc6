"""SSNs only as keyed hashes (design.md §6), and the keys edcs keeps."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.privacy import DEV_KEY, Hasher, hmac_key, is_hashed, session_key
from shared.settings import Settings

KEY = b"k" * 32


def test_an_ssn_is_stored_as_its_hmac_sha256_under_the_key() -> None:
    expected = hmac.new(KEY, b"123456789", hashlib.sha256).hexdigest()
    hashed = Hasher(KEY).ssn("123-45 6789 ")
    assert hashed == "hmac-sha256:" + expected
    assert is_hashed(hashed)
    assert Hasher(KEY).ssn(hashed) == hashed  # an exported hash uploaded again is kept
    assert Hasher(b"another key" * 3).ssn("123456789") != hashed
    assert Hasher(KEY).ssn("") == ""


def test_protect_hashes_the_hashed_fields_and_drops_an_invalid_one() -> None:
    hasher = Hasher(KEY)
    fields = ["a", "123456789", "b", "12"]
    out = hasher.protect(fields, hashed=[1, 3], failed=[3])
    assert out[0] == "a" and out[2] == "b" and is_hashed(out[1]) and out[3] == ""
    assert fields[1] == "123456789"  # the input is not changed


def test_the_embedded_default_generates_each_key_once_readable_by_its_owner(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database={"url": f"sqlite:///{tmp_path}/s.db"})
    first = hmac_key(settings)
    assert first == hmac_key(settings) and len(first) == 64
    assert session_key(settings) != first
    mode = stat.S_IMODE((tmp_path / "hmac.key").stat().st_mode)
    assert mode == 0o600


def test_a_deployment_refuses_a_missing_or_development_key(tmp_path: Path) -> None:
    url = {"url": "postgresql+psycopg://edcs@db/edcs"}
    with pytest.raises(ConfigError, match="EDCS_HMAC_KEY is not set"):
        hmac_key(Settings(data_dir=tmp_path, database=url))
    with pytest.raises(ConfigError, match="development value"):
        hmac_key(Settings(data_dir=tmp_path, database=url, hmac_key=DEV_KEY))
    assert hmac_key(Settings(data_dir=tmp_path, database=url, hmac_key="r" * 40)) == b"r" * 40
    assert not (tmp_path / "hmac.key").exists()


def test_the_validate_stage_hands_on_only_hashed_ssns() -> None:
    import datetime as dt

    from services.validate.worker import validate_batch
    from shared.catalog.loader import default_catalog
    from shared.events.models import Record, RecordBatch, encode

    def row(n: int, ssn: str) -> Record:
        return Record(row=n, fields=["", "Doe", "Jo", "", "", "01022015", "F", ssn,
                                     "2180", f"d{n}", "2180", "4001", "03"])

    hashed = Hasher(KEY).ssn("123456789")
    batch = RecordBatch(submission_id=1, collection="ODE-SSID", institution_id="2180",
                        submitted_on=dt.date(2026, 12, 1),
                        records=[row(2, "123456789"), row(3, "12345"), row(4, hashed),
                                 row(5, "")])
    out = validate_batch(batch, default_catalog(), Hasher(KEY))
    ssns = [r.fields[7] for r in out.records if r.fields]
    assert ssns == [hashed, "", hashed, ""]
    assert [i.code for r in out.records for i in r.issues] == ["invalid-format"]
    assert b"12345" not in encode(out)
