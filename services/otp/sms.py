"""SMS: templates in English and Hindi with their registered template ids, and the gateway adapter that
consumes sms.outbound. An OTP message carries only its challenge id; the adapter derives the code in memory,
hands the text to the gateway, and records the message with the code masked and the challenge as reference.
In dev the gateway is an inbox that `/dev/sms` reads back (re-deriving the code, dev only)."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import httpx

from contract import SMS_TOPIC
from services.common.errors import Transient
from services.common.events import envelope, write_event
from services.common.kafka import DeadLetter
from services.common.runtime import OtpContext
from services.common.settings import OtpSettings

from .codes import confirmation_code, otp_code

MASKED_CODE = "******"

log = logging.getLogger("seva.sms")

# template -> (DLT template id, English, Hindi)
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "otp": (
        "1107000000000000001",
        "{code} is your Seva Suraksha OTP. It is valid for {minutes} minutes. Do not share it. - Govt of Haryana",
        "{code} आपका सेवा सुरक्षा ओटीपी है। यह {minutes} मिनट तक मान्य है। किसी को न बताएं। - हरियाणा सरकार",
    ),
    "registration_open": (
        "1107000000000000005",
        "Seva Suraksha: your service record has been corrected. You can now register with an OTP on this number.",
        "सेवा सुरक्षा: आपका सेवा रिकॉर्ड ठीक कर दिया गया है। अब आप इस नंबर पर ओटीपी से पंजीकरण कर सकते हैं।",
    ),
    "registration_reminder": (
        "1107000000000000009",
        "Seva Suraksha: registration closes on {closes}. If you have not yet registered and submitted your "
        "application, do it before then.",
        "सेवा सुरक्षा: पंजीकरण {closes} को बंद होगा। यदि आपने अभी तक पंजीकरण कर आवेदन जमा नहीं किया है, तो उससे पहले करें।",
    ),
    "registration_lapsed": (
        "1107000000000000002",
        "Seva Suraksha: registration has closed and no registration was received for you.",
        "सेवा सुरक्षा: पंजीकरण बंद हो गया है, आपका पंजीकरण प्राप्त नहीं हुआ।",
    ),
    "registration_reopened": (
        "1107000000000000010",
        "Seva Suraksha: registration has been extended and is open again until {closes}. Register with an OTP "
        "on this number and submit your application before then.",
        "सेवा सुरक्षा: पंजीकरण की तिथि बढ़ा दी गई है, अब {closes} तक पंजीकरण खुला है। इस नंबर पर ओटीपी से पंजीकरण करें "
        "और उससे पहले आवेदन जमा करें।",
    ),
    "application_received": (
        "1107000000000000018",
        "Seva Suraksha: your application {application_no} has been received. Your DDO checks it next; see where it "
        "stands on the portal.",
        "सेवा सुरक्षा: आपका आवेदन {application_no} मिल गया है। अब आपका डीडीओ इसे जाँचेगा; स्थिति पोर्टल पर देखें।",
    ),
    "application_rejected": (
        "1107000000000000003",
        "Seva Suraksha: your application was not accepted by your DDO. Log in to see the reasons.",
        "सेवा सुरक्षा: आपका आवेदन डीडीओ द्वारा स्वीकार नहीं किया गया। कारण देखने के लिए लॉगिन करें।",
    ),
    "application_ineligible": (
        "1107000000000000006",
        "Seva Suraksha: your application does not meet the eligibility rules. Log in to see each reason.",
        "सेवा सुरक्षा: आपका आवेदन पात्रता नियमों को पूरा नहीं करता। हर कारण देखने के लिए लॉगिन करें।",
    ),
    "application_returned": (
        "1107000000000000007",
        "Seva Suraksha: your DDO returned your application for correction. Log in to see what to correct and resubmit.",
        "सेवा सुरक्षा: आपके डीडीओ ने आपका आवेदन सुधार हेतु लौटाया है। लॉगिन करके सुधार करें और दोबारा जमा करें।",
    ),
    "resubmission_lapsed": (
        "1107000000000000008",
        "Seva Suraksha: your returned application was not resubmitted before the deadline.",
        "सेवा सुरक्षा: लौटाया गया आपका आवेदन समय सीमा से पहले दोबारा जमा नहीं हुआ।",
    ),
    "entry_added": (
        "1107000000000000014",
        "Seva Suraksha: the entry missing from the application form has been added. Submit your application now.",
        "सेवा सुरक्षा: आवेदन फ़ॉर्म में जो प्रविष्टि नहीं थी, वह जोड़ दी गई है। अब अपना आवेदन जमा करें।",
    ),
    "case_superannuated": (
        "1107000000000000016",
        "Seva Suraksha: your service ended on reaching superannuation ({last_day}) before the order could be "
        "issued, so your case is closed without an order. Log in to see the details.",
        "सेवा सुरक्षा: आदेश जारी होने से पहले अधिवर्षिता ({last_day}) पर आपकी सेवा समाप्त हो गई, इसलिए आपका मामला बिना आदेश के "
        "बंद कर दिया गया है। विवरण देखने के लिए लॉगिन करें।",
    ),
    # ---- to officers (SMS, and e-mail where their record has one) ----
    "officer_case_closed": (
        "1107000000000000017",
        "Seva Suraksha: {what} is closed without an order: {reason}. It has left your desk.",
        "सेवा सुरक्षा: {what} बिना आदेश के बंद कर दिया गया: {reason}। यह आपके डेस्क से हटा दिया गया है।",
    ),
    "officer_escalated_to_you": (
        "1107000000000000011",
        "Seva Suraksha: {what} is escalated to you: {from_ref} missed the {step} deadline. Decide by {respond_by}.",
        "सेवा सुरक्षा: {what} आपको भेजा गया है: {from_ref} ने {step} की समय सीमा चूकी। {respond_by} तक निर्णय लें।",
    ),
    "officer_deadline_missed": (
        "1107000000000000012",
        "Seva Suraksha: you missed the {step} deadline for {what} ({days} days overdue); it is escalated to "
        "{to_role}. This is on your record.",
        "सेवा सुरक्षा: आपने {what} की {step} समय सीमा चूकी ({days} दिन विलंब); यह {to_role} को भेजा गया है। "
        "यह आपके रिकॉर्ड में दर्ज है।",
    ),
    "officer_pending_work": (
        "1107000000000000013",
        "Seva Suraksha: {count} cases await you, {overdue} of them overdue; the earliest is due {due}. Log in to "
        "your desk.",
        "सेवा सुरक्षा: {count} मामले आपकी प्रतीक्षा में हैं, जिनमें {overdue} विलंबित हैं; सबसे पहला {due} तक। अपने डेस्क पर लॉगिन करें।",
    ),
    "mobile_confirmation": (
        "1107000000000000015",
        "Seva Suraksha: is this mobile number yours? The service-security season opens soon and your OTP will come "
        "to it. Answer at {link} - Govt of Haryana",
        "सेवा सुरक्षा: क्या यह मोबाइल नंबर आपका है? सेवा सुरक्षा पंजीकरण जल्द खुलेगा और आपका ओटीपी इसी पर आएगा। "
        "उत्तर दें: {link} - हरियाणा सरकार",
    ),
    "order_issued": (
        "1107000000000000004",
        "Seva Suraksha: your service-security order {order_no} has been issued.",
        "सेवा सुरक्षा: आपका सेवा सुरक्षा आदेश {order_no} जारी कर दिया गया है।",
    ),
}


SUBJECT = {"en": "Seva Suraksha", "hi": "सेवा सुरक्षा"}  # an e-mail's subject; its body is the template's text


def render(template: str, params: dict[str, Any], language: str = "en") -> tuple[str, str]:
    template_id, en, hi = TEMPLATES[template]
    return template_id, (hi if language == "hi" else en).format(**params)


class GatewayRefused(DeadLetter):
    """The gateway answered that it will not take this message (4xx: a number on the DND registry or unallocated,
    a template not registered). Retrying cannot help: the message is parked with the gateway's reason, for
    `seva dlq replay` once the cause is mended (the template registered, the record corrected)."""

    def __init__(self, channel: str, reason: str):
        super().__init__(f"the {channel} gateway refused the message: {reason}", reason=f"{channel}_refused")
        self.gateway_reason = reason


class DevInboxGateway:
    """Dev: every message is accepted and nothing leaves the machine; otp.sms_delivery records it (the code
    masked) and `/dev/sms` shows it as the phone would. Not allowed outside dev (settings.OtpSettings).
    A real gateway is a class with the same `send`, named by SEVA_SMS_GATEWAY as module:Class: it returns when
    the gateway accepted the message, raises GatewayRefused when it refused it, and anything transient
    (services/common/errors.is_transient) when it could not be reached."""

    def __init__(self, settings: OtpSettings):
        self.settings = settings

    async def send(self, mobile: str, template_id: str, body: str, key: str) -> None:
        return None


class HttpSmsGateway:
    """A gateway reached over HTTPS (the state's SMS gateway, DLT-registered templates): one POST per message
    with the template id, authenticated by a bearer token, the event id as its Idempotency-Key (a resend after
    a crash is not a second SMS). Its URL and token are required settings."""

    def __init__(self, settings: OtpSettings):
        if not settings.sms_gateway_url or not settings.sms_gateway_token:
            from services.common.settings import ConfigurationError

            raise ConfigurationError("SEVA_SMS_GATEWAY_URL and SEVA_SMS_GATEWAY_TOKEN must be set for HttpSmsGateway")
        self.url, self.token = settings.sms_gateway_url, settings.sms_gateway_token
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))

    async def send(self, mobile: str, template_id: str, body: str, key: str) -> None:
        r = await self.http.post(
            self.url,
            headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key},
            json={"to": mobile, "template_id": template_id, "text": body},
        )
        if r.status_code < 300:
            return
        if r.status_code >= 500 or r.status_code in (408, 429):
            raise Transient(f"the SMS gateway answered {r.status_code}")  # down or busy: waited out
        raise GatewayRefused("sms", f"{r.status_code} {_reason(r)}")


def _reason(r: httpx.Response) -> str:
    """The gateway's own words for a refusal, short enough for a dead letter's line."""
    try:
        body = r.json()
        return str(body.get("reason") or body.get("code") or body)[:200]
    except ValueError:
        return r.text[:200]


def load_gateway(settings: OtpSettings, setting: str = "sms_gateway") -> Any:
    """The gateway class named by a setting (module:Class): the SMS gateway, or the mail gateway."""
    module_name, _, class_name = getattr(settings, setting).partition(":")
    return getattr(importlib.import_module(module_name), class_name)(settings)


def recorded_params(data: dict[str, Any]) -> dict[str, Any]:
    """A message's parameters as recorded: an OTP's code and a confirmation link's code masked."""
    params = dict(data.get("params", {}))
    if data["template"] == "otp":
        params["code"] = MASKED_CODE
    elif data["template"] == "mobile_confirmation":
        params["link"] = f"{params.get('portal', '')}/m/{data['confirmation_id']}/{MASKED_CODE}"
    return params


def _secret_code(settings: OtpSettings, template: str, reference: str) -> str:
    key = settings.otp_hmac_key
    return otp_code(key, reference) if template == "otp" else confirmation_code(key, reference)


def _with_code(ctx: OtpContext, data: dict[str, Any], params: dict[str, Any], language: str) -> str:
    """The text for the gateway: an OTP's code (or a confirmation link's) exists only here, in memory, on its way
    out."""
    body = render(data["template"], params, language)[1]
    reference = data.get("challenge_id") or data.get("confirmation_id")
    return body.replace(MASKED_CODE, _secret_code(ctx.settings, data["template"], reference), 1) if reference else body


def as_delivered(settings: OtpSettings, template: str, body: str, reference: str | None) -> str:
    """Dev only (`/dev/sms`): a recorded message as the phone showed it, its code derived again."""
    if template in ("otp", "mobile_confirmation") and reference:
        return body.replace(MASKED_CODE, _secret_code(settings, template, reference), 1)
    return body


async def inbox(ctx: OtpContext, mobile: str) -> list[dict[str, Any]]:
    """Dev only: the messages the dev inbox took for a mobile, newest last, as the phone showed them."""
    rows = await ctx.pool.fetch(
        "SELECT mobile, template, language, template_id, body, outcome, handled_at, reference FROM otp.sms_delivery "
        "WHERE mobile = $1 ORDER BY handled_at",
        mobile,
    )
    return [
        {
            **dict(r),
            "body": as_delivered(ctx.settings, r["template"], r["body"], r["reference"]),
            "handled_at": r["handled_at"].isoformat(),
        }
        for r in rows
    ]


async def request_sms(
    conn: Any, employee_id: str, template: str, params: dict[str, Any], *, event_id: str | None = None, **more: Any
) -> str:
    """Queue one SMS for the gateway adapter (`sms.requested` on sms.outbound), in the caller's transaction.
    `more` carries what a template needs beyond its parameters (an OTP's mobile, challenge and expiry)."""
    return await write_event(
        conn,
        "otp",
        SMS_TOPIC,
        envelope(
            "sms.requested", "otp", employee_id, {"template": template, "params": params, **more}, event_id=event_id
        ),
    )
