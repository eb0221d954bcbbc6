"""The SSID pages in a real browser on the real stack (issues 10 and 11): a district reviews
its suggested records (one is the student it already has, one a new student), two districts
vote a likely duplicate into a merge, the history pages show it, and a third district sees
none of it. The collections page shows each collection's windows; the operator has the window
page in the menu."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import DuplicatePair, Identity, OdsRecord, Suggestion
from tests.e2e.test_faults import senr_file, ssid
from tests.fixtures.browser import new_page, sign_in
from tests.fixtures.stack import RunningStack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
FINAL_WITHIN_MS = 60_000
OREGON, OTHER_OREGON, SENR_LEA, SECOND_LEA = "2180", "2181", "1964733", "1964734"
SCRIPT = "<script>x()</script>"  # a district student id (names refuse '<')
ODE_HEADER = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
              "resident_district,district_student_id,attending_district,attending_school,"
              "enrolled_grade\r\n")


@dataclass
class Prepared:
    """The stack, who signs in, and what waits for them."""

    stack: RunningStack
    people: dict[str, tuple[str, str]]
    okafor: str = ""  # the SSID the registry has for a student whose record was suggested
    twin: int = 0  # the suggestion of a twin (a new student)
    changed: int = 0  # the suggestion of Okafor under a new last name
    pair: tuple[str, str] = ("", "")
    shown: list[str] = field(default_factory=list)


def _wait_for_pair(stack: RunningStack, low: str, high: str) -> None:
    deadline = time.monotonic() + 60
    while True:  # the identity worker files both SSIDs and finds the pair
        with Session(stack.engine()) as session:
            if session.get(DuplicatePair, (low, high)) is not None:
                return
        assert time.monotonic() < deadline, "no likely duplicate was found"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    folder = tmp_path_factory.mktemp("ssid-pages")
    for stack in start_stack(folder / "stack", env_extra={"EDCS_RUNNER__TICK_SECONDS": "1"}):
        people = {}
        for name, institution, roles in (
                ("oregon", OREGON, ("submitter", "reviewer")),
                ("other-oregon", OTHER_OREGON, ("submitter", "reviewer")),
                ("senr", SENR_LEA, ("submitter",)), ("second", SECOND_LEA, ("submitter",))):
            email = f"{name}@coordinators.example"
            done = stack.edcs("users", "add", email, "--institution", institution,
                              *[a for r in roles for a in ("--role", r)], "--format", "json")
            assert done.returncode == 0, done.stderr
            people[name] = (email, json.loads(done.stdout)["password"])
        found = Prepared(stack, people)
        first = folder / "first.csv"
        first.write_text(ODE_HEADER + "{0},Okafor,Chidi,,,05062015,M,,2180,M1,2180,4001,03\r\n"
                                      "{0},Nguyen,Linh,,,03042016,F,,2180,S1,2180,4001,03\r\n"
                         .format(""))
        rows = senr_file(folder / "senr.csv", 1, 61).read_text().split(",")
        ours, theirs = rows[:], rows[:]
        ours[7], theirs[7] = ssid(61_000_001), ssid(61_000_002)  # one child, two SSIDs
        theirs[3] = theirs[30] = SECOND_LEA
        theirs[4] = "6100000"  # a school of that district in the shipped CDS directory
        (folder / "ours.csv").write_text(",".join(ours))
        (folder / "theirs.csv").write_text(",".join(theirs))
        jobs = [stack.upload(first, "ODE-SSID", OREGON),
                stack.upload(folder / "ours.csv", "SENR", SENR_LEA),
                stack.upload(folder / "theirs.csv", "SENR", SECOND_LEA)]
        for job in jobs:
            stack.wait_for(job, lambda status, *_: status == "posted", "posted")
        with Session(stack.engine()) as session:
            given = {i.fields[1]: i.ssid for i in session.scalars(
                select(Identity).where(Identity.institution_id == OREGON))}
        found.okafor = given["Okafor"]
        second = folder / "second.csv"
        second.write_text(ODE_HEADER + ",Reyes,Chidi,,,05072015,M,,2180,M1,2180,4001,03\r\n"
                          f"{given['Nguyen']},Nguyen,Mai,,,03042016,F,,2180,{SCRIPT},2180,"
                          "4001,03\r\n")
        job = stack.submit(second, "ODE-SSID", OREGON)
        assert (job["status"], job["suggested"]) == ("posted", 2), job["message"]
        with Session(stack.engine()) as session:
            waiting = {s.fields[1]: s.id for s in session.scalars(select(Suggestion))}
        found.changed, found.twin = waiting["Reyes"], waiting["Nguyen"]
        found.pair = (min(ours[7], theirs[7]), max(ours[7], theirs[7]))
        _wait_for_pair(stack, *found.pair)
        yield found  # type: ignore[misc]


def signed_in(browser: Browser, prepared: Prepared, name: str) -> Page:
    page = new_page(browser, prepared.stack)
    sign_in(page, *prepared.people[name])
    return page


def posted_ssid(stack: RunningStack, job_id: int) -> str:
    with Session(stack.engine()) as session:
        (fields,) = session.scalars(select(OdsRecord.fields).where(
            OdsRecord.submission_id == job_id)).all()
    return str(fields[0])


def job_of(page: Page) -> int:
    expect(page).to_have_url(re.compile(r"/jobs/\d+\?uploaded=1$"))
    expect(page.locator("span#status")).to_have_text("posted", timeout=FINAL_WITHIN_MS)
    return int(page.url.split("/jobs/", 1)[1].split("?", 1)[0])


def test_a_district_matches_one_suggestion_and_gives_another_a_new_ssid(
        browser: Browser, prepared: Prepared) -> None:
    page = signed_in(browser, prepared, "oregon")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.click("header.top a:text('Review Suggestions')")
    expect(page.locator("#suggestion-count")).to_have_text("Records waiting: 2 Pages: 1")
    changed = page.locator(f"section#suggestion-{prepared.changed}")
    last = changed.locator("tr[data-field=legal_last] td")
    expect(last).to_have_text(["legal_last", "Reyes", re.compile(r"Okafor\s+≠ differs")])
    expect(changed.locator("tr[data-field=gender] td").nth(2)).to_have_class("agree")
    expect(changed.locator("tr[data-field=dob] td").nth(2)).to_have_class("differ")
    expect(changed.locator("tr[data-field=ssn] td").nth(2)).to_have_class("unknown")

    twin = page.locator(f"section#suggestion-{prepared.twin}")
    expect(twin.locator("tr[data-field=district_student_id] td").nth(1)).to_have_text(SCRIPT)
    expect(page.locator("main script")).to_have_count(0)
    page.screenshot(path="/tmp/edcs-pages-suggestions.png", full_page=True)

    changed.locator(f"button[data-choice=match][data-ssid='{prepared.okafor}']").click()
    assert posted_ssid(prepared.stack, job_of(page)) == prepared.okafor

    page.click("header.top a:text('Review Suggestions')")
    expect(page.locator("#suggestion-count")).to_have_text("Records waiting: 1 Pages: 1")
    page.locator(f"section#suggestion-{prepared.twin} button[data-choice=new]").click()
    new = posted_ssid(prepared.stack, job_of(page))
    assert new not in (prepared.okafor, "")
    page.goto("/suggestions")
    expect(page.locator("#nothing")).to_have_text("No records wait for a decision.")
    assert dialogs == []
    page.context.close()


def test_two_districts_vote_yes_and_the_history_shows_the_merge(
        browser: Browser, prepared: Prepared) -> None:
    low, high = prepared.pair
    ours = signed_in(browser, prepared, "senr")
    ours.click("header.top a:text('Resolve Duplicates')")
    pair = ours.locator(f"section#pair-{low}-{high}")
    expect(pair.locator("tr[data-field=legal_last] td").nth(2)).to_have_class("agree")
    pair.locator("button[data-vote=yes]").click()
    expect(ours.locator("#outcome")).to_contain_text("waits for the other district's vote")
    expect(ours.locator(f"section#pair-{low}-{high} td.vote").first).to_have_text("Y")

    theirs = signed_in(browser, prepared, "second")
    theirs.goto("/duplicates")
    theirs.locator(f"section#pair-{low}-{high} button[data-vote=yes]").click()
    expect(theirs.locator("#outcome")).to_have_text(
        f"{low} and {high} are one student: they are merged, {low} survives and {high} "
        "redirects to it.")
    expect(theirs.locator(f"section#pair-{low}-{high}")).to_have_count(0)
    theirs.click(f"table#merged a:text('{high}')")
    expect(theirs.locator("#standing")).to_contain_text(f"Merged into {low}")
    expect(theirs.locator("table#identity-history td.action")).to_contain_text(
        ["created", f"merged with {low}"])
    theirs.context.close()

    ours.goto(f"/students?collection=SENR&ssid={low}&population=all")
    ours.locator("table#results a").first.click()
    ours.click("#record-ssid a")
    expect(ours.locator("h1")).to_have_text(f"SSID {low}")
    expect(ours.locator("table#identity-history td.action")).to_contain_text(
        [f"merged with {high}"])
    ours.context.close()


def test_a_third_district_sees_none_of_it_even_with_forged_ids(
        browser: Browser, prepared: Prepared) -> None:
    page = signed_in(browser, prepared, "other-oregon")
    page.goto("/suggestions")
    expect(page.locator("#nothing")).to_be_visible()
    page.goto("/duplicates")
    expect(page.locator("section.pair")).to_have_count(0)
    expect(page.locator("p#merged")).to_have_text("No merges of your students yet.")
    low, high = prepared.pair
    for url, status in ((f"/suggestions?institution={OREGON}", 403),
                        (f"/duplicates?institution={SENR_LEA}", 403),
                        (f"/identities/{prepared.okafor}", 404), (f"/identities/{low}", 404)):
        answer = page.goto(url)
        assert answer is not None and answer.status == status, url
        assert "Okafor" not in page.content() and "Nguyen" not in page.content()
    page.goto("/")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    forged = page.request.post(f"/suggestions/{prepared.changed}",
                               form={"csrf_token": csrf, "choice": "new"})
    assert forged.status == 404 and "Reyes" not in forged.text()
    vote = page.request.post(f"/duplicates/{low}/{high}/vote", form={
        "csrf_token": csrf, "institution": SENR_LEA, "same": "no"})
    assert vote.status == 403
    page.context.close()


def test_collections_show_their_windows_and_the_operator_reaches_the_window_page(
        browser: Browser, prepared: Prepared) -> None:
    page = new_page(browser, prepared.stack)
    sign_in(page, "operator@state.example", prepared.stack.operator_password)
    cell = page.locator("table#collections td.windows[data-collection=SENR]")
    expect(cell).to_contain_text(re.compile(r"2026-2027 Fall 1: 2026-10-07 to 2026-12-18, "
                                            r"(open|closed|not yet open)"))
    page.click("header.top a#nav-window")
    expect(page.locator("h1")).to_have_text("Window overview")
    page.context.close()
    district = signed_in(browser, prepared, "oregon")
    expect(district.locator("a#nav-window")).to_have_count(0)
    district.context.close()
