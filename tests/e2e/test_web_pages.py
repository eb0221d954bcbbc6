"""The pages in a real browser (Debian's Chromium driven by Playwright) on the real stack, as a
new user would use them: a district coordinator signs in, uploads a file, follows it in the
Review Queue, reads the email, fixes a held record, resubmits, looks the student up, downloads
the records; a second district's coordinator sees none of it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shared.windows import collection_year, configured
from tests.fixtures.browser import new_page, sign_in
from tests.fixtures.stack import RunningStack, gen_senr

# SSCE files carry the collection's year: its window's (shared/reference/windows.csv).
SSCE_YEAR = collection_year(configured(), "SSCE", dt.date.today()).years[0]

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

INSTITUTION = "1964733"
FINAL_WITHIN_MS = 60_000
SCREENSHOTS = Path("/tmp/edcs-pages")  # for a person to look at
ODE_HEADER = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
              "resident_district,district_student_id,attending_district,attending_school,"
              "enrolled_grade\r\n")


@pytest.fixture(scope="module")
def people(sqlite_stack: RunningStack) -> dict[str, tuple[str, str]]:
    """Coordinators of two districts of each kind, added with `edcs users add` as an operator
    would: name -> (email, password)."""
    found = {}
    for name, institution in (("senr", INSTITUTION), ("oregon", "2180"),
                              ("other-oregon", "2181")):
        email = f"{name}@coordinators.example"
        done = sqlite_stack.edcs("users", "add", email, "--institution", institution,
                                 "--role", "submitter", "--role", "reviewer", "--format", "json")
        assert done.returncode == 0, done.stderr
        found[name] = (email, json.loads(done.stdout)["password"])
    return found


@pytest.fixture
def coordinator(browser: Browser, sqlite_stack: RunningStack,
                people: dict[str, tuple[str, str]]) -> Iterator[Page]:
    """The SENR district's coordinator, signed in."""
    page = new_page(browser, sqlite_stack)
    sign_in(page, *people["senr"])
    try:
        yield page
    finally:
        page.context.close()


def upload(page: Page, path: Path, collection: str = "SENR",
           institution: str = INSTITUTION) -> int:
    """Fill in File Upload and submit it; returns the job id from the page it lands on."""
    page.goto("/upload")
    page.select_option("select#collection", collection)
    page.select_option("select#institution", institution)
    page.set_input_files("input#file", path)
    page.click("form.upload button[type=submit]")
    expect(page).to_have_url(re.compile(r"/jobs/\d+\?uploaded=1$"))
    expect(page.locator("#uploaded")).to_contain_text("passed the preliminary checks")
    return int(page.url.split("/jobs/", 1)[1].split("?", 1)[0])


def counts(page: Page) -> dict[str, str]:
    """The counts table as {heading: value}."""
    table = page.locator("table#counts")
    headings = table.locator("tr").nth(0).locator("th").all_inner_texts()
    values = table.locator("tr").nth(1).locator("td").all_inner_texts()
    return dict(zip(headings, values, strict=True))


def test_the_operator_signs_in_with_the_password_edcs_up_kept(
        browser: Browser, sqlite_stack: RunningStack) -> None:
    page = new_page(browser, sqlite_stack)
    page.goto("/")
    page.fill("input#email", "operator@state.example")
    page.fill("input#password", "not the password")
    page.click("button#sign-in")
    expect(page.locator("#message")).to_have_text(
        "The email address or the password is not right.")
    sign_in(page, "operator@state.example", sqlite_stack.operator_password)
    expect(page.locator("table#collections")).to_contain_text("ODE-SSID")
    page.click("button#sign-out")
    expect(page.locator("#message")).to_have_text("You are signed out.")
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fqueue"))
    page.context.close()


def test_a_clean_file_is_followed_in_the_queue_and_its_email_read(
        coordinator: Page, tmp_path: Path) -> None:
    page = coordinator
    job_id = upload(page, gen_senr(tmp_path / "senr-clean.csv", 300, errors=0.0, seed=21))
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    shown = counts(page)
    assert (shown["Records"], shown["Posted"], shown["With errors"]) == ("300", "300", "0")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)

    page.click("text=Review Queue")
    row = page.locator(f"tr#job-{job_id}")
    expect(row.locator("[data-cell=status]")).to_have_text("posted")
    expect(row.locator("[data-cell=counts]")).to_have_text(
        "300 of 300 validated, 300 posted, 0 with errors")
    expect(row.locator("[data-cell=filename]")).to_have_text("senr-clean.csv")

    page.click("text=Review Email")
    mail = page.locator("table#email-list tr").filter(has_text=f"submission {job_id} posted")
    expect(mail).to_have_count(1, timeout=FINAL_WITHIN_MS)
    mail.locator("a").first.click()
    expect(page.locator("#opened-body")).to_contain_text("Posted: 300")


def test_a_bad_row_is_shown_by_kind_and_downloads_as_csv_txt_and_xml(
        coordinator: Page, tmp_path: Path) -> None:
    page = coordinator
    path = gen_senr(tmp_path / "senr-bad.csv", 300, errors=0.0, seed=22)
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[41].split(b",")
    fields[22] = b"77"  # Enrollment Status Code not in the code set, physical row 42
    lines[41] = b",".join(fields)
    path.write_bytes(b"\r\n".join(lines))
    job_id = upload(page, path)
    expect(page.locator("span#status")).to_have_text("rejected", timeout=FINAL_WITHIN_MS)
    issues = page.locator("table#issues tr").filter(has=page.locator("td"))
    expect(issues.locator("td")).to_have_text(
        ["42", "1.23 Enrollment Status Code", "invalid-code", "fatal",
         "Enrollment Status Code (1.23) '77' is not a valid Enrollment Status code."])

    page.goto("/errors")
    page.click(f"table#error-jobs a[href='/jobs/{job_id}/errors']")
    group = page.locator("table#error-groups tr").filter(has_text="invalid-code")
    expect(group.locator("td").nth(1)).to_have_text("1")
    expect(group).to_contain_text("Value not in code set")
    for fmt in ("csv", "txt", "xml"):
        with page.expect_download() as download:
            page.click(f"#download-errors a:text('{fmt.upper()}')")
        assert download.value.suggested_filename == f"submission-{job_id}-errors.{fmt}"
        text = Path(download.value.path()).read_text()
        assert "invalid-code" in text and "42" in text
    csv_text = page.request.get(f"/api/v1/submissions/{job_id}/issues.csv").text()
    found = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["row"], r["field_name"], r["code"]) for r in found] == [
        ("42", "Enrollment Status Code", "invalid-code")]

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-errors.png"), full_page=True)


def test_preliminary_errors_are_listed_on_the_upload_page(coordinator: Page,
                                                           tmp_path: Path) -> None:
    page = coordinator
    path = tmp_path / "<img src=x onerror=alert(1)>.csv"
    path.write_bytes(b"")
    page.goto("/upload")
    page.set_input_files("input#file", path)
    page.fill("input#email", "someone@example.org")
    page.click("form.upload button[type=submit]")
    expect(page.locator("#error-info")).to_contain_text("The file has no records.")
    expect(page.locator("input#email")).to_have_value("someone@example.org")
    expect(page.locator("img")).to_have_count(0)


def test_the_upload_page_says_which_files_the_chosen_collection_takes(coordinator: Page
                                                                      ) -> None:
    page = coordinator
    page.goto("/upload?collection=SSCE")
    expect(page.locator("#accepts")).to_contain_text(
        "SSCE files: comma/caret-delimited, header row; names ending .csv, .txt.")
    expect(page.locator("input#file")).to_have_attribute("accept", ".csv,.txt")
    page.select_option("select#collection", "ODE-SSID")
    expect(page.locator("#accepts")).to_contain_text("ODE-SSID files: comma-delimited")
    expect(page.locator("#accepts")).to_contain_text(".zip")
    assert ".zip" in (page.locator("input#file").get_attribute("accept") or "")
    page.click("#file-types summary")
    expect(page.locator("#file-types")).to_contain_text("DISC-LEA")


def test_an_oregon_day_fix_resubmit_look_up_download_and_a_second_district_sees_none(
        browser: Browser, sqlite_stack: RunningStack, people: dict[str, tuple[str, str]],
        tmp_path: Path) -> None:
    page = new_page(browser, sqlite_stack)
    sign_in(page, *people["oregon"])
    path = tmp_path / "oregon.csv"
    path.write_text(ODE_HEADER + ",Zephyr,Jo,,,01022015,F,123456789,2180,d1,2180,4001,03\r\n"
                                 ",Zeta,Al,,,13402015,M,,2180,d2,2180,4001,04\r\n")
    job_id = upload(page, path, "ODE-SSID", "2180")
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    expect(page.locator("p#held")).to_contain_text("1 records with errors are kept")

    page.click("p#held a")
    page.click("table#error-groups a:text('Fix Errors')")
    page.click("table#error-records a:text('Fix')")
    expect(page.locator("#record-errors")).to_contain_text("dob")
    page.fill("input#field_dob", "12312014")
    page.click("button#save")
    expect(page.locator("h1")).to_have_text("This Error Has Been Fixed!",
                                            timeout=FINAL_WITHIN_MS)
    expect(page.locator("#fix-status")).to_contain_text("Record Saved")

    page.goto("/students")
    page.select_option("select#collection", "ODE-SSID")
    page.fill("input#last", "Ze[p-t]")
    page.click("button#find")
    expect(page.locator("#result-count")).to_have_text("Records: 2 Pages: 1")
    page.locator("table#results tr").filter(has_text="Zephyr").locator("a").click()
    expect(page.locator("#record-key")).to_have_text(re.compile(r"^\d{10}$"))  # given at posting
    zephyr = page.locator("#record-key").inner_text()
    expect(page.locator("input#field_ssn")).to_have_attribute(
        "placeholder", "kept as a keyed hash; type it again to change it")
    expect(page.locator("table#change-history tr")).to_have_count(2)
    assert "123456789" not in page.content()

    page.goto("/downloads")
    page.select_option("select#collection", "ODE-SSID")
    page.select_option("select#institution", "2180")
    page.click("button#ask")
    expect(page.locator("#download-status")).to_contain_text("Ready: 2 records",
                                                             timeout=FINAL_WITHIN_MS)
    with page.expect_download() as download:
        page.click("a#download-file")
    exported = Path(download.value.path()).read_text()
    assert exported.startswith("ssid,legal_last")
    assert "hmac-sha256:" in exported and "123456789" not in exported
    assert "12312014" in exported
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "download.png"), full_page=True)
    page.context.close()

    other = new_page(browser, sqlite_stack)
    sign_in(other, *people["other-oregon"])
    other.goto("/queue")
    expect(other.locator(f"tr#job-{job_id}")).to_have_count(0)
    assert other.goto(f"/jobs/{job_id}").status == 404
    expect(other.locator("#problem")).to_contain_text(f"There is no submission {job_id}")
    other.goto(f"/students?collection=ODE-SSID&ssid={zephyr}&population=all")
    expect(other.locator("#result-count")).to_have_text("Records: 0 Pages: 1")
    other.goto("/housekeeping")
    expect(other.locator("#nothing")).to_have_text("There is no housekeeping to be done.")
    other.context.close()


def test_housekeeping_deletes_a_files_records_with_errors(
        browser: Browser, sqlite_stack: RunningStack, people: dict[str, tuple[str, str]],
        tmp_path: Path) -> None:
    page = new_page(browser, sqlite_stack)
    sign_in(page, *people["other-oregon"])
    path = tmp_path / "other.csv"
    path.write_text(ODE_HEADER + "6661,Roe,Al,,,13402015,M,,2181,d9,2181,4101,04\r\n")
    job_id = upload(page, path, "ODE-SSID", "2181")
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    page.goto("/housekeeping")
    row = page.locator("table#housekeeping tr").filter(has_text=f"{job_id}")
    expect(row.locator("td").nth(5)).to_have_text("1")
    row.locator("button").click()
    expect(page.locator("#deleted")).to_contain_text(f"submission {job_id} were deleted")
    expect(page.locator("#nothing")).to_have_text("There is no housekeeping to be done.")
    page.context.close()


def test_lookup_values_list_the_codes_of_each_field(coordinator: Page) -> None:
    coordinator.goto("/lookup-values?collection=SENR")
    heading = coordinator.locator("h2#field-student_gender_code")
    expect(heading).to_contain_text("Gender")
    expect(coordinator.locator("table.lookup").first).to_be_visible()
    assert "Nonbinary" in coordinator.content()


def test_ssce_job_pages_show_the_active_and_the_archived_submission(
        coordinator: Page, tmp_path: Path) -> None:
    page = coordinator
    header = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
    first, second = tmp_path / "ssce-first.csv", tmp_path / "ssce-second.csv"
    first.write_text(header + f"{SSCE_YEAR},19647330000001,1234567890,p1,12,D\r\n")
    second.write_text(header + f"{SSCE_YEAR},19647330000001,1000000001,p2,12,T\r\n")
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


def test_ssns_are_kept_nowhere_in_clear_through_the_real_pipeline(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    ssns = ["918273645", "827364519"]
    path = tmp_path / "ssns.csv"
    path.write_text(ODE_HEADER + f",Ssn,Kai,,,06072013,F,{ssns[0]},2180,s1,2180,4002,03\r\n"
                                 f",Ssn,Al,,,13402015,M,{ssns[1]},2180,s2,2180,4002,04\r\n")
    job = sqlite_stack.submit(path, "ODE-SSID", "2180")
    assert (job["status"], job["posted"], job["held"]) == ("posted", 1, 1)
    store = (sqlite_stack.data_dir / "edcs.db").read_bytes()
    wal = sqlite_stack.data_dir / "edcs.db-wal"
    store += wal.read_bytes() if wal.exists() else b""
    for ssn in ssns:
        assert ssn.encode() not in store  # staged, posted, held, history, issues, emails
    exported = sqlite_stack.edcs("export", "ODE-SSID", "--institution", "2180").stdout
    held = sqlite_stack.edcs("held", str(job["id"]), "--format", "json").stdout
    logs = "".join(p.read_text(errors="replace")
                   for p in (sqlite_stack.data_dir / "logs").glob("*.log"))
    for text in (exported, held, logs):
        assert not any(ssn in text for ssn in ssns)
    assert exported.count("hmac-sha256:") >= 1 and "hmac-sha256:" in held
