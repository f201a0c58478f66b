"""Where the rendered reports are written beside the archive: the overall one, then each team's."""

from fwcost.delivery.model import OutgoingReport
from fwcost.publishing import report_files


def rendered(team: str | None) -> OutgoingReport:
    name = team or "everyone"
    return OutgoingReport(
        team=team,
        subject=f"costs for {name}",
        html=f"<p>{name}</p>",
        text=name,
        slack={"text": name, "blocks": []},
        csv_name="day.csv",
        csv_bytes=None,
    )


def test_each_team_gets_a_folder_and_a_team_named_overall_cannot_replace_the_overall_report() -> (
    None
):
    files = report_files([rendered(None), rendered("overall"), rendered("a/b")])

    assert files["report.html"] == b"<p>everyone</p>"
    assert files["teams/overall/report.html"] == b"<p>overall</p>"
    assert files["teams/a%2Fb/report.txt"] == b"a/b"  # a slash in a name stays in one folder
    assert len(files) == 9  # html, text and Slack JSON for each of the three
