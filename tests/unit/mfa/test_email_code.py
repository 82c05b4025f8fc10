"""EmailCodeService with an injected clock: 3-minute codes, 5 attempts, single use, one live
code per account, resend cooldown and daily cap, and the account throttle behind it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.accounts.throttle import SigninThrottle
from idp.audit import EventTag, SecurityEvent
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from idp.mfa.base import FactorContext
from idp.mfa.errors import (
    AccountLocked,
    AttemptTooEarly,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeNotSent,
    DailyCodeLimitReached,
    InvalidCode,
    NoLiveCode,
    ResendTooSoon,
)
from idp.mfa.models import EmailCode
from idp.mfa.services import EmailCodeService, normalize_code
from idp.extensions import db
from tests.unit.mfa.conftest import new_signin, sent_codes


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def events(tag: EventTag) -> int:
    return db.session.scalar(select(func.count()).where(SecurityEvent.tag == str(tag)))


def test_a_code_is_six_digits_queued_by_mail_and_stored_only_as_a_keyed_hash(codes, mail, user, context):
    code = codes.send_first(user, context)
    [plain] = sent_codes(mail)
    assert len(plain) == 6 and plain.isdigit()
    assert plain not in code.code_hash and len(code.code_hash) == 64
    assert code.signin_transaction_id == context.transaction_id
    assert events(EventTag.EMAIL_CODE_SENT) == 1


def test_the_first_code_of_a_sign_in_is_sent_once(codes, mail, user, context):
    assert codes.send_first(user, context) is not None
    assert codes.send_first(user, context) is None  # a reload sends nothing
    assert len(sent_codes(mail)) == 1


def test_the_right_code_works_once(codes, mail, user, context):
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    codes.verify(user.id, plain, context)
    code = codes.latest_for(context.transaction_id)
    assert code.used_at is not None and code.burned_at is not None
    with pytest.raises(NoLiveCode):
        codes.verify(user.id, plain, context)


def test_spaces_and_dashes_people_type_are_ignored(codes, mail, user, context):
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    codes.verify(user.id, f" {plain[:3]} -{plain[3:]} ", context)
    assert normalize_code("12 34-56") == "123456"


def test_a_code_works_until_three_minutes_and_not_after(codes, mail, user, context, clock, ctx):
    """MFA-02: +179 s accepted, +181 s refused."""
    assert ctx.settings.MFA_EMAIL_CODE_TTL == 180
    codes.send_first(user, context)
    clock.advance(179)
    codes.verify(user.id, sent_codes(mail)[-1], context)

    other = FactorContext(transaction_id=new_signin(ctx, user.id).id, locale="en")
    clock.advance(60)
    codes.send_first(user, other)
    plain_code = sent_codes(mail)[-1]
    for message_id in mail.due_ids():  # delivered in time: only the code expires
        mail.mark_sent(mail.claim(message_id))
    clock.advance(181)
    with pytest.raises(CodeExpired):
        codes.verify(user.id, plain_code, other)
    with pytest.raises(NoLiveCode):  # an expired code is burned
        codes.verify(user.id, plain_code, other)


def test_five_wrong_attempts_burn_the_code(codes, mail, user, context, clock, throttle):
    codes.send_first(user, context)
    [plain] = sent_codes(mail)

    def wait_out_the_delay():
        clock.advance(throttle.policy.delay_for(user.failed_signin_count).total_seconds())

    for attempt in range(1, 6):
        wait_out_the_delay()
        expected = CodeAttemptsExhausted if attempt == 5 else InvalidCode
        with pytest.raises(expected):
            codes.verify(user.id, wrong(plain), context)
    wait_out_the_delay()
    with pytest.raises(NoLiveCode):
        codes.verify(user.id, plain, context)
    assert events(EventTag.EMAIL_CODE_FAILURE) == 5


def test_wrong_codes_count_against_the_account_and_a_right_one_clears_them(codes, mail, user, context):
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    for _ in range(2):
        with pytest.raises(InvalidCode):
            codes.verify(user.id, wrong(plain), context)
    assert user.failed_signin_count == 2
    codes.verify(user.id, plain, context)
    assert user.failed_signin_count == 0


def test_within_the_progressive_delay_a_code_is_not_even_checked(codes, mail, user, context, clock):
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    user.failed_signin_count = 2
    with pytest.raises(InvalidCode):
        codes.verify(user.id, wrong(plain), context)  # the third failure: wait 1 s now
    with pytest.raises(AttemptTooEarly):
        codes.verify(user.id, plain, context)
    assert codes.latest_for(context.transaction_id).attempts == 1  # the refused try used none
    clock.advance(1)
    codes.verify(user.id, plain, context)


def test_the_failure_that_reaches_the_threshold_locks_and_emails(codes, mail, user, context, clock, ctx):
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    user.failed_signin_count = ctx.settings.SIGNIN_LOCK_THRESHOLD - 1
    with pytest.raises(AccountLocked):
        codes.verify(user.id, wrong(plain), context)
    with pytest.raises(AccountLocked):
        codes.verify(user.id, plain, context)  # even the right code, during the lock
    locked = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "account-locked")).all()
    assert [message.to_address for message in locked] == ["ana@example.ca"]
    assert events(EventTag.ACCOUNT_LOCKED) == 1


def test_a_new_code_replaces_the_previous_one_after_the_cooldown(codes, mail, user, context, clock, ctx):
    codes.send_first(user, context)
    with pytest.raises(ResendTooSoon) as too_soon:
        codes.resend(user, context)
    assert too_soon.value.seconds_left == ctx.settings.MFA_EMAIL_CODE_RESEND_COOLDOWN
    clock.advance(ctx.settings.MFA_EMAIL_CODE_RESEND_COOLDOWN - 10)
    with pytest.raises(ResendTooSoon) as too_soon:
        codes.resend(user, context)
    assert too_soon.value.seconds_left == 10
    clock.advance(10)
    codes.resend(user, context)
    first, second = sent_codes(mail)
    assert db.session.scalar(select(func.count()).where(EmailCode.burned_at.is_(None))) == 1
    if first != second:  # 1 in a million, the two codes are equal
        with pytest.raises(InvalidCode):
            codes.verify(user.id, first, context)
    codes.verify(user.id, second, context)


def test_a_new_code_in_another_sign_in_replaces_this_one(codes, mail, user, context, ctx):
    """One live code per account (MFA-01): a second tab's code ends the first tab's."""
    codes.send_first(user, context)
    [first] = sent_codes(mail)
    other = FactorContext(transaction_id=new_signin(ctx, user.id).id)
    codes.send_first(user, other)
    with pytest.raises(NoLiveCode):
        codes.verify(user.id, first, context)


def test_a_code_works_only_in_the_sign_in_it_was_sent_for(codes, mail, user, context, ctx):
    """MFA-03: the code of transaction A is refused in transaction B."""
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    other = FactorContext(transaction_id=new_signin(ctx, user.id).id)
    with pytest.raises(NoLiveCode):
        codes.verify(user.id, plain, other)
    codes.verify(user.id, plain, context)


def test_a_code_sent_to_one_person_does_not_sign_in_another(codes, mail, user, context, ctx):
    from idp.accounts.services import AccountService

    leo = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
        "leo@example.ca", "Léo", "Roy", "another long password"
    )
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    with pytest.raises(NoLiveCode):
        codes.verify(leo.id, plain, context)


@pytest.mark.settings(MFA_EMAIL_CODE_DAILY_CAP=3, MFA_EMAIL_CODE_RESEND_COOLDOWN=30)
def test_the_daily_cap_counts_every_code_of_the_account(codes, user, context, clock):
    codes.send_first(user, context)
    for _ in range(2):
        clock.advance(30)
        codes.resend(user, context)
    clock.advance(30)
    with pytest.raises(DailyCodeLimitReached):
        codes.resend(user, context)
    clock.advance(hours=24)
    codes.resend(user, context)


@pytest.mark.settings(MFA_EMAIL_CODE_DAILY_CAP=1)
def test_a_code_the_mail_caps_refuse_is_not_left_live(codes, mail, user, context, clock, ctx):
    # Sign-in codes have their own mail budget (idp.mail.services.OWN_BUDGETS); this fills it
    # for the address without an EmailCode row, so only the mail cap refuses the code.
    mail.enqueue(to=user.email, template="signin-code", locale="en", context={})
    with pytest.raises(CodeNotSent):
        codes.send_first(user, context)
    assert db.session.scalar(select(func.count()).where(EmailCode.burned_at.is_(None))) == 0


@pytest.mark.settings(MAIL_MAX_PER_ADDRESS_PER_HOUR=1, MAIL_MAX_PER_ACCOUNT_PER_DAY=1)
def test_other_mail_filling_the_shared_caps_does_not_stop_the_code(codes, mail, user, context):
    """Anybody can cause "can't sign in?" mail to an address; its owner still gets a code."""
    mail.enqueue(to=user.email, template="password-reset", locale="en", context={}, user_id=user.id)
    assert mail.enqueue(to=user.email, template="hello", locale="en", context={}, user_id=user.id) is None
    codes.send_first(user, context)
    assert len(sent_codes(mail)) == 1


def test_concurrent_right_answers_spend_the_code_once(app, ctx, codes, mail, user, context):
    """R2: the same correct code submitted by several workers at once succeeds exactly once."""
    codes.send_first(user, context)
    [plain] = sent_codes(mail)
    db.session.commit()
    workers = 6
    engine, user_id = db.engine, user.id
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def submit():
        with Session(engine) as session:
            throttle = SigninThrottle(session, ctx.settings, ctx.clock)
            service = EmailCodeService(session, ctx.settings, ctx.clock, ctx.hasher,
                                       MailService(session, ctx.settings, ctx.clock, ctx.secret_box), throttle)
            barrier.wait(timeout=10)
            try:
                service.verify(user_id, plain, context)
                session.commit()
                outcomes.append("ok")
            except (NoLiveCode, InvalidCode) as error:
                session.commit()
                outcomes.append(type(error).__name__)
            except BaseException as error:
                outcomes.append(repr(error))

    threads = [threading.Thread(target=submit) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "NoLiveCode", "InvalidCode"}, outcomes
