"""Email texts for each milestone: counts, issue kinds and a link; never student data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.db.models import Submission


@dataclass(frozen=True)
class Message:
    """A rendered email."""

    subject: str
    body: str


def _issue_lines(issue_counts: Mapping[str, int]) -> str:
    if not issue_counts:
        return ""
    lines = [f"  {code}: {n}" for code, n in sorted(issue_counts.items(), key=lambda x: -x[1])]
    return "\nIssues by kind:\n" + "\n".join(lines) + "\n"


def render(submission: Submission, milestone: str, issue_counts: Mapping[str, int],
           base_url: str) -> Message:
    """The email for one milestone of a submission."""
    link = f"{base_url.rstrip('/')}/jobs/{submission.id}"
    head = (f"Submission {submission.id}: {submission.collection} file '{submission.filename}' "
            f"for institution {submission.institution_id}")
    if milestone == "suggestions":
        return Message(
            subject=f"edcs: {submission.collection} submission {submission.id}: "
                    f"{submission.suggested} records wait in Review Suggestions",
            body=f"{head} was posted, but for {submission.suggested} of its records edcs "
                 "found a possible student without being sure. They wait in Review "
                 "Suggestions: choose each one's student (or a new SSID) and it posts.\n\n"
                 f"Review Suggestions: {base_url.rstrip('/')}/api/suggestions?institution="
                 f"{submission.institution_id}\nThe job: {link}\n")
    if milestone == "received":
        return Message(
            subject=f"edcs: {submission.collection} submission {submission.id} received",
            body=f"{head} was received and is being processed.\n\nFollow it here: {link}\n")
    if submission.status == "failed":
        return Message(
            subject=f"edcs: {submission.collection} submission {submission.id} could not be "
                    "processed",
            body=f"{head} could not be processed, through no fault in its data that edcs "
                 f"found.\n\n{submission.message or ''}\n\nDetails: {link}\n")
    if submission.status == "posted":
        subject = (f"edcs: {submission.collection} submission {submission.id} posted: "
                   f"{submission.posted} of {submission.records} records")
    else:
        subject = f"edcs: {submission.collection} submission {submission.id} rejected"
    counts = (f"Records in file: {submission.records}\nPosted: {submission.posted}\n"
              f"Records with errors: {submission.rejected}\nWarnings: {submission.warnings}\n")
    body = (f"{head} was {submission.status}.\n\n{submission.message or ''}\n\n{counts}"
            f"{_issue_lines(issue_counts)}\nErrors with row and field, and downloads: {link}\n")
    return Message(subject=subject, body=body)
