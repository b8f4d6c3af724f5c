"""The Meilensteingespräch's timing and comparison rules, as pure functions."""

from __future__ import annotations

from datetime import date

from conversations.clock import berlin
from conversations.rules.milestone import (
    GoalRating,
    Version,
    invitation_due,
    invite_at,
    reminder_due,
    summary_at,
    version_for,
    views_differ,
)


def test_invitations_go_out_on_the_day_ten_days_before_not_at_the_hour():
    talk = berlin(2027, 4, 14, 10, 0)
    assert invite_at(talk, 10) == berlin(2027, 4, 4, 0, 0)
    assert not invitation_due(berlin(2027, 4, 3, 23, 59), talk, 10)
    assert invitation_due(berlin(2027, 4, 4, 8, 0), talk, 10)
    assert not invitation_due(summary_at(talk), talk, 10)  # after the summary, answers would reach nobody


def test_counting_days_across_the_change_to_summer_time():
    talk = berlin(2027, 4, 2, 10, 0)  # DST began on 28 March 2027
    assert invite_at(talk, 10) == berlin(2027, 3, 23, 0, 0)


def test_one_reminder_window_after_the_invitation_until_the_summary():
    talk, invited = berlin(2027, 4, 14, 10, 0), berlin(2027, 4, 4, 9, 0)
    assert not reminder_due(berlin(2027, 4, 7, 8, 59), invited, talk, 3)
    assert reminder_due(berlin(2027, 4, 7, 9, 0), invited, talk, 3)
    assert not reminder_due(berlin(2027, 4, 12, 10, 0), invited, talk, 3)


def test_who_gets_which_questionnaire():
    on = date(2027, 4, 4)
    assert version_for("parent", None, on, 14) == Version.ADULT
    assert version_for("adult", date(1950, 1, 1), on, 14) == Version.ADULT
    assert version_for("child", date(2011, 6, 2), on, 14) == Version.YOUTH  # Emre, 15
    assert version_for("child", date(2013, 4, 5), on, 14) is None  # turns 14 tomorrow
    assert version_for("child", date(2013, 4, 4), on, 14) == Version.YOUTH  # 14 today
    assert version_for("child", date(2017, 9, 14), on, 14) is None  # Leyla, 9: her parents are asked
    assert version_for("child", None, on, 14) is None  # age unknown: not asked
    assert version_for("child", date(2008, 1, 1), on, 14) == Version.ADULT  # a young adult (§ 41)


def test_differences_are_real_views_only():
    assert views_differ([GoalRating.PARTLY], [GoalRating.NOT_YET])
    assert not views_differ([GoalRating.PARTLY, None], [GoalRating.PARTLY])
    assert not views_differ([GoalRating.UNKNOWN], [GoalRating.REACHED])  # "I don't know" is no opposing view
    assert not views_differ([], [GoalRating.REACHED])  # nobody in the family answered
