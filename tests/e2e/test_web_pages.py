"""The web pages in a real browser (Debian's Chromium driven by Playwright) on the real stack:
a district coordinator uploads through the form, watches the job page and downloads the
issues."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures.stack import RunningStack, gen_senr

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
INSTITUTION = "1964733"
FINAL_WITHIN_MS = 60_000
SCREENSHOT = Path("/tmp/edcs-job-page.png")  # for the lead to look at


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, sqlite_stack: RunningStack) -> Iterator[Page]:
    """A fresh context (no cookies, no cache) and page for each test, based on the web app."""
    context = browser.new_context(base_url=sqlite_stack.api)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def upload(page: Page, path: Path, email: str = "coordinator@page-test.example",
           collection: str = "SENR") -> int:
    """Fill in the form on / and submit it; returns the job id from the page it lands on."""
    page.goto("/")
    page.select_option("select#collection", collection)
    page.select_option("select#institution", INSTITUTION)
    page.fill("input#email", email)
    page.set_input_files("input#file", path)
    page.click("form.upload button[type=submit]")
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    return int(page.url.rsplit("/", 1)[-1])


def counts(page: Page) -> dict[str, str]:
    """The counts table as {heading: value}."""
    table = page.locator("table#counts")
    headings = table.locator("tr").nth(0).locator("th").all_inner_texts()
    values = table.locator("tr").nth(1).locator("td").all_inner_texts()
    return dict(zip(headings, values, strict=True))


def test_clean_file_uploaded_through_the_page_is_posted(page: Page, tmp_path: Path) -> None:
    path = gen_senr(tmp_path / "senr-clean.csv", 300, errors=0.0, seed=21)
    job_id = upload(page, path)
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    expect(page.locator("span#status")).to_have_class("status-posted")
    shown = counts(page)
    assert (shown["Records"], shown["Posted"], shown["With errors"]) == ("300", "300", "0")
    expect(page.locator("table#issues")).to_have_count(0)  # nothing to list
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)  # final: stops refreshing

    page.goto("/")
    row = page.locator("table#jobs tr").filter(
        has=page.locator(f"a[href='/jobs/{job_id}']"))
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("SENR")
    expect(cells.nth(2)).to_have_text(INSTITUTION)
    expect(cells.nth(3)).to_have_text("senr-clean.csv")
    expect(cells.nth(4)).to_have_text("posted")
    expect(cells.nth(5)).to_have_text("300")
    expect(cells.nth(6)).to_have_text("300")
    row.locator("a").click()  # the queue links back to the job
    expect(page).to_have_url(re.compile(rf"/jobs/{job_id}$"))


def test_bad_row_is_shown_located_and_downloadable(page: Page, tmp_path: Path) -> None:
    path = gen_senr(tmp_path / "senr-bad.csv", 300, errors=0.0, seed=22)
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[41].split(b",")
    fields[22] = b"77"  # Enrollment Status Code not in the code set, physical row 42
    lines[41] = b",".join(fields)
    path.write_bytes(b"\r\n".join(lines))

    job_id = upload(page, path)
    expect(page.locator("span#status")).to_have_text("rejected", timeout=FINAL_WITHIN_MS)
    shown = counts(page)
    assert (shown["Records"], shown["Posted"], shown["With errors"]) == ("300", "0", "1")

    kinds = page.locator("table#issue-kinds tr").filter(has_text="invalid-code")
    expect(kinds.locator("td")).to_have_text(["invalid-code", "1"])
    issues = page.locator("table#issues tr").filter(has=page.locator("td"))
    expect(issues).to_have_count(1)
    expect(issues.locator("td")).to_have_text(
        ["42", "1.23 Enrollment Status Code", "invalid-code", "fatal",
         "Enrollment Status Code (1.23) '77' is not a valid Enrollment Status code."])

    link = page.locator("a#download")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None and href.endswith(f"/api/submissions/{job_id}/issues.csv")
    response = page.request.get(href)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("text/csv")
    assert f"submission-{job_id}-errors.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert [(r["row"], r["field_name"], r["code"]) for r in rows] == [
        ("42", "Enrollment Status Code", "invalid-code")]

    # The link as a browser follows it: a download of the same file.
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"submission-{job_id}-errors.csv"
    assert Path(download.path()).read_bytes() == response.body()

    page.screenshot(path=str(SCREENSHOT), full_page=True)  # for a person to look at


def test_empty_file_is_rejected_with_a_reason(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    upload(page, path)
    expect(page.locator("span#status")).to_have_text("rejected", timeout=FINAL_WITHIN_MS)
    expect(page.locator("p#message")).to_have_text("The file has no records.")
    issues = page.locator("table#issues tr").filter(has=page.locator("td"))
    expect(issues.locator("td")).to_have_text(
        ["file", "", "empty-file", "fatal", "The file has no records."])


def test_ssce_job_pages_show_the_active_and_the_archived_submission(
        page: Page, tmp_path: Path) -> None:
    header = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
    first, second = tmp_path / "ssce-first.csv", tmp_path / "ssce-second.csv"
    first.write_text(header + "2023-2024,19647330000001,1234567890,p1,12,D\r\n")
    second.write_text(header + "2023-2024,19647330000001,1000000001,p2,12,T\r\n")
    first_id = upload(page, first, collection="SSCE")
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    upload(page, second, collection="SSCE")
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    expect(page.locator("p#standing")).to_contain_text("the active submission")
    page.goto(f"/jobs/{first_id}")
    expect(page.locator("p#standing")).to_contain_text("an archived submission")
    with page.expect_download() as download:
        page.locator("p#standing a").click()
    assert Path(download.value.path()).read_text() == first.read_text()
