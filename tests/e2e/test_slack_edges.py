"""Slack edges end to end: signatures, escaping, permissions, races, retries, rate limits, commands, App Home."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from slack_emulator import SlackEmulator
from tests.e2e.harness import CHANNELS, SIGNING_SECRET, USERS, Bot, database_url, running_bot
from tests.e2e.test_slack_flow import CH, buttons, ephemeral_for, shown, wait_shows
from tests.factories import item

AGENT, AGENT2, SUPER, LEADER = "U0AGENT1", "U0AGENT2", "U0SUPER1", "U0LEADER1"


@pytest.fixture
def bot(tmp_path, emu) -> Iterator[Bot]:  # noqa: ANN001
    with (
        database_url("sqlite", tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=False, emu=emu) as b,
    ):
        yield b


def new_case(bot: Bot, **fields) -> tuple[str, str]:
    [ref] = bot.ingest(item(score=1, **fields))["cases"]
    return ref, bot.case_message(ref)["ts"]


def signed_post(
    bot: Bot, body: str, *, age_s: int = 0, secret: str = SIGNING_SECRET, sign: bool = True
) -> httpx.Response:
    timestamp = str(int(time.time()) - age_s)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
    }
    if sign:
        headers["X-Slack-Signature"] = SignatureVerifier(secret).generate_signature(
            timestamp=timestamp, body=body
        )
    return httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)


def test_unsigned_stale_or_wrongly_signed_requests_get_401_and_change_nothing(bot):
    ref, ts = new_case(bot)
    body = urlencode(
        {
            "command": "/feedback",
            "text": f"ack {ref}",
            "user_id": AGENT,
            "channel_id": CH,
            "team_id": "T0LOOPBOT",
            "response_url": f"{bot.emu.base_url}response/x",
            "trigger_id": "1.2.3",
        }
    )
    assert signed_post(bot, body, sign=False).status_code == 401
    assert (
        signed_post(bot, body, age_s=6 * 60).status_code == 401
    )  # Slack's replay window is 5 minutes
    assert signed_post(bot, body, secret="not-the-secret").status_code == 401
    time.sleep(1)
    assert "Acknowledged" not in shown(bot.emu.message(CH, ts)) and bot.emu.replies(CH, ts) == []


def test_customer_text_reaches_slack_escaped_and_masked_in_every_payload(bot):
    comment = (
        "Late! <!channel> <@U123> <https://evil.example|click> & jane@example.com +44 20 7946 0958"
    )
    ref, ts = new_case(bot, comment=comment)
    bot.emu.click(CH, ts, "case_ack", AGENT)
    bot.emu.slash_command(f"show {ref}", AGENT, CH)
    ephemeral_for(bot, AGENT, ref)
    wait_shows(bot, ts, "Acknowledged")
    sent = [
        json.dumps(c.args) for c in bot.emu.calls if c.method in ("chat.postMessage", "chat.update")
    ]
    sent += [json.dumps(m) for m in bot.emu.ephemerals(CH, AGENT)]
    with_comment = [p for p in sent if "evil.example" in p]
    assert len(with_comment) >= 3  # the post, the update, the `show` answer
    for payload in with_comment:
        assert (
            "&lt;!channel&gt;" in payload
            and "&lt;@U123&gt;" in payload
            and "&lt;https://evil.example|click&gt;" in payload
        )
        assert (
            "<!channel>" not in payload
            and "<@U123>" not in payload
            and "<https://evil" not in payload
        )
        assert (
            "jane@example.com" not in payload
            and "7946" not in payload
            and "[email]" in payload
            and "[phone]" in payload
        )


def test_a_frontline_agent_cannot_resolve_and_is_told_who_can(bot):
    ref, ts = new_case(bot)
    bot.emu.slash_command(f"resolve {ref} cause=other outcome=fixed Called", AGENT, CH)
    denial = ephemeral_for(bot, AGENT, "Only supervisors of Delivery Ops")
    assert "<@U0SUPER1>" in json.dumps(denial)
    bot.emu.click(CH, ts, "case_resolve", AGENT)  # the button refuses before a modal opens
    ephemeral_for(bot, AGENT, "can resolve")
    assert bot.emu.open_views(AGENT) == []
    time.sleep(0.5)
    assert buttons(bot.emu.message(CH, ts)) == ["case_ack", "case_resolve", "case_assign_me"]


def test_two_people_clicking_acknowledge_at_once_acknowledge_once_and_the_second_is_told(bot):
    ref, ts = new_case(bot)
    start = threading.Barrier(2)

    def click(user: str) -> None:
        start.wait()
        bot.emu.click(CH, ts, "case_ack", user)

    threads = [threading.Thread(target=click, args=(u,)) for u in (AGENT, AGENT2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acked = wait_shows(bot, ts, "Acknowledged by")
    winner = AGENT if f"<@{AGENT}>" in shown(acked) else AGENT2
    loser = AGENT2 if winner == AGENT else AGENT
    told = ephemeral_for(bot, loser, "already acknowledged")
    assert f"<@{winner}>" in json.dumps(told)
    time.sleep(1)
    assert len(bot.emu.replies(CH, ts)) == 1


def test_a_double_click_and_a_slack_retry_change_the_case_once(bot):
    ref, ts = new_case(bot)
    first = bot.emu.click(CH, ts, "case_ack", AGENT)
    bot.emu.redeliver(first)  # the same person clicking again
    bot.emu.redeliver(first, retry_num=1)  # Slack re-sending the very same request
    wait_shows(bot, ts, "Acknowledged by")
    ephemeral_for(bot, AGENT, "already acknowledged by <@U0AGENT1>")
    note = bot.emu.slash_command(f"note {ref} called the customer", AGENT, CH)
    bot.emu.redeliver(note, retry_num=1)
    time.sleep(1.5)
    lines = [r["text"] for r in bot.emu.replies(CH, ts)]
    assert (
        sum("Acknowledged" in t for t in lines) == 1
        and sum("called the customer" in t for t in lines) == 1
    )


def test_rate_limited_posts_are_delayed_but_never_lost_or_duplicated(bot):
    bot.emu.rate_limit("chat.postMessage", times=4, retry_after=1)
    refs = bot.ingest(*[item(score=1, comment=f"case number {i}") for i in range(3)])["cases"]
    for ref in refs:
        bot.case_message(ref, timeout=30)
    time.sleep(1)
    posted = [m for m in bot.emu.messages(CH) if any(r in (m.get("text") or "") for r in refs)]
    assert sorted(r for m in posted for r in refs if r in m["text"]) == sorted(refs)
    assert len(posted) == 3
    assert sum(1 for c in bot.emu.calls_to("chat.postMessage") if c.status == 429) == 4


def test_commands_list_show_assign_note_help_and_mistakes(bot):
    ref, ts = new_case(bot, comment="the courier was rude")
    bot.emu.slash_command("list", AGENT, CH)
    assert "Open cases of Delivery Ops" in json.dumps(ephemeral_for(bot, AGENT, ref))
    bot.emu.slash_command(f"assign {ref} me", AGENT, CH)
    wait_shows(bot, ts, f"<@{AGENT}>")
    bot.emu.slash_command(
        f"assign {ref} <@{AGENT2}|agent two>", AGENT, CH
    )  # someone else: supervisors only
    ephemeral_for(bot, AGENT, "you can assign it to yourself")
    bot.emu.slash_command(f"assign {ref} <@{AGENT2}|agent two>", SUPER, CH)
    wait_shows(bot, ts, f"<@{AGENT2}>")
    bot.emu.slash_command("list mine", AGENT2, CH)
    ephemeral_for(bot, AGENT2, ref)
    bot.emu.slash_command(f"note {ref} left a voicemail", AGENT, CH)
    bot.emu.wait_for(
        lambda: any("left a voicemail" in r["text"] for r in bot.emu.replies(CH, ts)), timeout=10
    )
    bot.emu.slash_command("", AGENT, CH)
    ephemeral_for(bot, AGENT, "/feedback resolve")
    bot.emu.slash_command(f"resovle {ref}", AGENT, CH)
    ephemeral_for(bot, AGENT, "Did you mean `resolve`")
    bot.emu.slash_command("show FB-9999", AGENT, CH)
    ephemeral_for(bot, AGENT, "There is no case FB-9999")
    bot.emu.slash_command("list nosuchteam", AGENT, CH)
    ephemeral_for(bot, AGENT, "There is no team `nosuchteam`")
    bot.emu.slash_command("chart csat", AGENT, CH)
    ephemeral_for(bot, AGENT, "can ask for charts")


def test_stats_for_the_channels_team_all_teams_for_leaders_and_what_others_are_told(bot):
    ref, ts = new_case(bot)
    bot.emu.click(CH, ts, "case_ack", AGENT)
    wait_shows(bot, ts, "Acknowledged by")
    bot.emu.slash_command("stats 7d", SUPER, CH)  # in the delivery channel: that team
    one = json.dumps(ephemeral_for(bot, SUPER, "last 7d"))
    assert "Delivery Ops" in one and "Support" not in one
    bot.emu.slash_command("stats all", SUPER, CH)
    ephemeral_for(
        bot, SUPER, "Only leaders can ask for stats for all teams; ask for one of yours: `delivery`"
    )
    bot.emu.slash_command("stats all 4w", LEADER, CH)
    every = json.dumps(ephemeral_for(bot, LEADER, "last 4w"))
    assert "Delivery Ops" in every and "Support" in every
    bot.emu.slash_command("stats support", SUPER, CH)
    ephemeral_for(bot, SUPER, "Only supervisors of Support")
    bot.emu.slash_command("stats 800d", SUPER, CH)
    ephemeral_for(bot, SUPER, "A period runs from 1d to 730d")


def test_app_home_shows_the_persons_cases_and_their_teams_last_seven_days(bot):
    ref, ts = new_case(bot)
    bot.ingest(item(score=5), item(score=4), item(metric="nps", score=10))
    bot.emu.click(CH, ts, "case_assign_me", AGENT)
    wait_shows(bot, ts, f"<@{AGENT}>")
    assert bot.emu.open_app_home(AGENT).ok
    home = bot.emu.wait_for(lambda: bot.emu.home(AGENT), timeout=10)
    text = json.dumps(home)
    assert "Assigned to you" in text and ref in text and "Delivery Ops" in text
    assert (
        "CSAT 66.7" in text and "NPS 100" in text
    )  # csat 1, 5, 4 → 2 of 3 satisfied; one promoter
    assert bot.emu.click_in_home(AGENT, "case_show").ok  # the case opens in a modal
    assert bot.emu.wait_for(lambda: bot.emu.open_views(AGENT), timeout=10)


def test_metrics_count_cases_and_slack_errors(bot):
    ref, ts = new_case(bot)
    bot.emu.click(CH, ts, "case_ack", AGENT)
    wait_shows(bot, ts, "Acknowledged")
    bot.emu.slash_command(f"resolve {ref} cause=other outcome=fixed Called back", SUPER, CH)
    wait_shows(bot, ts, "Called back")
    text = httpx.get(f"{bot.url}/metrics", timeout=10).text
    assert 'loopbot_cases_opened_total{kind="feedback",team="delivery"} 1.0' in text
    assert 'loopbot_cases_acknowledged_total{team="delivery"} 1.0' in text
    assert 'loopbot_cases_resolved_total{team="delivery"} 1.0' in text
    assert 'loopbot_time_to_resolve_seconds_count{team="delivery"} 1.0' in text
    assert 'loopbot_outbox_messages{state="pending"}' in text


def test_a_channel_the_bot_is_not_in_parks_its_posts_only_and_says_so(tmp_path):
    with (
        SlackEmulator(channels=CHANNELS, users=USERS, not_in_channel={"C0SUPPORT"}) as emu,
        database_url("sqlite", tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=False, emu=emu) as bot,
    ):
        bot.ingest(item(team="support", score=1))
        ref, _ = new_case(bot)
        parked = 'loopbot_outbox_parked_posts{error="not_in_channel",scope="C0SUPPORT"} 1.0'
        bot.emu.wait_for(lambda: parked in httpx.get(f"{bot.url}/metrics").text, timeout=10)
        metrics = httpx.get(f"{bot.url}/metrics").text
        assert 'loopbot_outbox_messages{state="parked"} 1.0' in metrics
        assert 'loopbot_outbox_messages{state="failed"} 0.0' in metrics
        assert (
            'loopbot_slack_api_errors_total{error="not_in_channel",method="chat.postMessage"}'
            in metrics
        )
        health = httpx.get(f"{bot.url}/healthz").json()
        assert health["status"] == "degraded" and health["parked_posts"] == 1
        [waiting] = health["parked"]
        assert (waiting["channel"], waiting["error"]) == ("C0SUPPORT", "not_in_channel")
        assert "/invite @Loopbot" in waiting["fix"] and "failures" not in health
        assert "parked, retried in 60s: invite the bot to C0SUPPORT" in bot.output()


def test_an_alert_storm_posts_ten_cases_then_one_grouped_message(bot):
    refs = bot.ingest(*[item(score=1, comment=f"storm {i}") for i in range(13)])["cases"]
    assert len(refs) == 13
    group = bot.emu.wait_for(
        lambda: next(
            (m for m in bot.emu.messages(CH) if "more cases for Delivery Ops" in shown(m)), None
        ),
        timeout=20,
        message=f"no grouped message: {bot.emu.summary()}",
    )
    singles = [m for m in bot.emu.messages(CH) if m["ts"] != group["ts"]]
    assert len(singles) == 10 and all("case_ack" in buttons(m) for m in singles)
    assert [r for r in refs if f"*{r}*" in shown(group)] == refs[10:]
    assert buttons(group) == ["cases_list_open"]
    # A grouped case is still worked by command; its line in the grouped message changes and its thread says so.
    bot.emu.slash_command(f"ack {refs[11]}", AGENT, CH)
    bot.emu.wait_for(
        lambda: any(
            refs[11] in r["text"] or "Acknowledged" in r["text"]
            for r in bot.emu.replies(CH, group["ts"])
        ),
        timeout=10,
    )
    updated = bot.emu.message(CH, group["ts"])
    assert "acknowledged" in shown(updated).lower()
    assert bot.emu.click(CH, group["ts"], "cases_list_open", AGENT).ok
    ephemeral_for(bot, AGENT, refs[12])
