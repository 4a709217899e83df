"""Scheduled posts as processes: a huddle every minute posted once by two replicas sharing PostgreSQL, and
once after `loopbot run` is killed while delivering it; Slack faults delay posts but never lose or repeat them."""

from __future__ import annotations

import copy
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

import httpx

from slack_emulator import SlackEmulator
from tests.conftest import CONFIG
from tests.e2e.harness import database_url, running_bot
from tests.factories import item

DELIVERY, SUPPORT = "C0DELIVERY", "C0SUPPORT"


def every_minute() -> dict:
    config = copy.deepcopy(CONFIG)
    config["defaults"]["huddle"] = "* * * * *"
    return config


def post_keys(emu: SlackEmulator, channel: str, prefix: str = "huddle:") -> list[str]:
    keys = [
        ((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        for m in emu.messages(channel)
    ]
    return [k for k in keys if k.startswith(prefix)]


def test_two_replicas_on_one_postgresql_database_post_each_huddle_once(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    with (
        database_url("postgresql", tmp_path) as url,
        running_bot(
            tmp_path, url, socket_mode=False, emu=emu, config_data=every_minute(), name="a"
        ) as a,
        running_bot(
            tmp_path, url, socket_mode=False, emu=emu, config_data=every_minute(), name="b"
        ) as b,
    ):
        # Each replica fires every huddle each minute; the claims table lets one of them post it.
        emu.wait_for(
            lambda: min(len(set(post_keys(emu, DELIVERY))), len(set(post_keys(emu, SUPPORT)))) >= 3,
            timeout=300,
            interval=1,
        )
        time.sleep(3)  # a duplicate, if any, would be posted by now
        for channel in (DELIVERY, SUPPORT):
            counts = Counter(post_keys(emu, channel))
            assert len(counts) >= 3 and set(counts.values()) == {1}, counts
        assert a.proc.poll() is None and b.proc.poll() is None


def test_killed_while_delivering_a_digest_then_restarted_the_digest_is_in_the_channel_once(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    config = every_minute()
    config["teams"]["support"]["huddle"] = (
        "0 0 1 1 *"  # once a year: only the delivery team's huddle here
    )
    db = tmp_path / "kill.db"
    url = f"sqlite:///{db}"
    # Slack takes the first post but answers after 4 s: the process is killed in between, so it never
    # learns that the digest is in the channel.
    emu.hang("chat.postMessage", seconds=4, times=1)
    with running_bot(
        tmp_path, url, socket_mode=False, emu=emu, config_data=config, name="first"
    ) as first:
        emu.wait_for(lambda: emu.in_flight("chat.postMessage") >= 1, timeout=90, interval=0.05)
        first.proc.kill()
        first.proc.wait()
    emu.wait_for(lambda: len(post_keys(emu, DELIVERY)) == 1, timeout=15)
    killed = post_keys(emu, DELIVERY)[0]
    with running_bot(tmp_path, url, socket_mode=False, emu=emu, config_data=config, name="second"):
        # The post's lease (60 s) runs out, the restarted bot takes it again, finds it in the channel by its
        # metadata and records it as delivered instead of posting a second copy.
        def settled() -> bool:
            with sqlite3.connect(db) as conn:
                return (
                    conn.execute("SELECT state FROM outbox WHERE key = ?", (killed,)).fetchone()[0]
                    == "delivered"
                )

        emu.wait_for(settled, timeout=120, interval=1)
        counts = Counter(post_keys(emu, DELIVERY))
    assert counts[killed] == 1
    assert set(counts.values()) == {1}, counts


def _refs_posted(emu: SlackEmulator, channel: str) -> Counter:
    return Counter(
        m
        for msg in emu.messages(channel)
        for m in re.findall(r"\bFB-\d+\b", (msg.get("text") or "")[:40])
    )


def test_429s_then_500s_then_a_hang_delay_posts_but_every_one_arrives_once_and_a_bad_channel_fails_alone(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    config = copy.deepcopy(CONFIG)
    config["teams"]["support"]["channel"] = "C0GONE"  # deleted in Slack: channel_not_found
    with running_bot(
        tmp_path,
        f"sqlite:///{tmp_path / 'faults.db'}",
        socket_mode=False,
        emu=emu,
        config_data=config,
    ) as bot:
        refs: list[str] = []
        emu.rate_limit("chat.postMessage", times=None, fraction=0.5, retry_after=1)
        refs += bot.ingest(*[item(score=1, comment=f"rate limited {i}") for i in range(5)])["cases"]
        gone = bot.ingest(item(score=1, team="support", comment="to a deleted channel"))["cases"]
        emu.wait_for(
            lambda: set(refs) <= set(_refs_posted(emu, DELIVERY)), timeout=60, interval=0.2
        )
        emu.clear_faults()
        emu.server_error("chat.postMessage", times=3)
        refs += bot.ingest(*[item(score=1, comment=f"server errors {i}") for i in range(3)])[
            "cases"
        ]
        emu.wait_for(
            lambda: set(refs) <= set(_refs_posted(emu, DELIVERY)), timeout=60, interval=0.2
        )
        # Longer than the client's 10 s timeout: Slack posts it after the bot gave up on the call.
        emu.hang("chat.postMessage", seconds=12, times=1)
        refs += bot.ingest(item(score=1, comment="hung"))["cases"]
        emu.wait_for(
            lambda: set(refs) <= set(_refs_posted(emu, DELIVERY)), timeout=30, interval=0.2
        )
        # The bot looks for the hung post 30 s after its timeout, finds it, and does not post it again.
        time.sleep(32)
        posted = _refs_posted(emu, DELIVERY)
        assert {r: posted[r] for r in refs} == dict.fromkeys(refs, 1)
        assert sum(1 for c in emu.calls_to("chat.postMessage") if c.status == 429) >= 1
        assert sum(1 for c in emu.calls_to("chat.postMessage") if c.status == 500) == 3
        # The deleted channel's post waits for the fix (a channel id in the YAML), failing nothing.
        health = httpx.get(f"{bot.url}/healthz", timeout=5).json()
        assert health["status"] == "degraded" and "failures" not in health
        assert [(p["channel"], p["error"], p["posts"]) for p in health["parked"]] == [
            ("C0GONE", "channel_not_found", 1)
        ]
        assert gone and not emu.messages(SUPPORT)
        metrics = httpx.get(f"{bot.url}/metrics", timeout=5).text
        assert 'loopbot_outbox_parked_posts{error="channel_not_found",scope="C0GONE"} 1.0' in (
            metrics
        ), metrics[-2000:]
        assert "C0GONE does not exist or the bot cannot see it" in bot.output()
