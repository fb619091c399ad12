"""CAMARA scenarios that cannot apply to this deployment, each with the reason (by tag).

docs/capabilities.md lists the same table; the runner skips these with the reason shown.
"""

from __future__ import annotations

_WHOLE_HISTORY = (
    "this carrier keeps every line's whole SIM history and answers maxAge up to 2400 hours, "
    "the largest the document allows: there is no shorter monitored period"
)
_ONE_IDENTIFIER = (
    "this network identifies devices by phone number only (other identifiers are "
    "422 UNSUPPORTED_IDENTIFIER), so two identifiers cannot name different devices"
)
_THRESHOLD_CODE = (
    "expects CARRIER_BILLING.AMOUNT_THRESHOLD_OVERPASSED, a code carrier-billing.yaml does not "
    "list; the gateway answers the listed CARRIER_BILLING.USER_AMOUNT_THRESHOLD_OVERPASSED "
    "(test_camara_conformance.py checks it)"
)
_THREE_LEGGED_NUMBER = (
    "expects 202 for a phoneNumber in the body with a three-legged token; carrier-billing.yaml's "
    "identifier rule answers that 422 UNNECESSARY_IDENTIFIER, even for the token's own number "
    "(the two-legged scenario 03 passes)"
)
_ALWAYS_VALIDATED = (
    "this carrier always answers preparePayment synchronously with validationInfo: MIIT's rules "
    "want the subscriber to confirm each carrier-billing charge with the texted code "
    "(prepare_payment_13 passes)"
)
_EMPTY_BODY = (
    "expects 400 INVALID_ARGUMENT for {}, which carrier-billing.yaml's PhoneNumber schema accepts "
    "(no property is required); with the background's two-legged token the document's identifier "
    "rule answers 422 MISSING_IDENTIFIER (a three-legged token: the success)"
)
NOT_APPLICABLE: dict[str, str] = {
    # SIM swap
    "check_sim_swap_400.3_max_age_out_of_monitored_period": _WHOLE_HISTORY,
    "retrieve_sim_swap_date_5_no_sim_swap_or_activation_date_due_to_legal_constrain": (
        _WHOLE_HISTORY
    ),
    # Carrier billing
    "retrieve_payments_400.02_out_of_range": (
        "expects CARRIER_BILLING.OUT_OF_RANGE, a code carrier-billing.yaml does not list "
        "(GetPaymentsInvalid400 lists OUT_OF_RANGE, which the gateway answers)"
    ),
    "retrieve_refunds_400.02_out_of_range": (
        "expects CARRIER_BILLING_REFUND.OUT_OF_RANGE, a code carrier-billing-refund.yaml does "
        "not list (GetRefundsInvalid400 lists OUT_OF_RANGE, which the gateway answers)"
    ),
    "confirm_payment_422.01_phoneNumber_required": (
        "expects CARRIER_BILLING.PHONE_NUMBER_REQUIRED, a code carrier-billing.yaml does not "
        "list; the gateway answers the listed MISSING_IDENTIFIER"
    ),
    "confirm_payment_400.02_empty_request_body": _EMPTY_BODY,
    "cancel_payment_400.02_empty_request_body": _EMPTY_BODY,
    "create_payment_422.01_phoneNumber_required": (
        "expects CARRIER_BILLING.PHONE_NUMBER_REQUIRED, a code carrier-billing.yaml does not "
        "list; the gateway answers the listed MISSING_IDENTIFIER"
    ),
    "prepare_payment_422.01_phoneNumber_required": (
        "expects CARRIER_BILLING.PHONE_NUMBER_REQUIRED, a code carrier-billing.yaml does not "
        "list; the gateway answers the listed MISSING_IDENTIFIER"
    ),
    "cancel_payment_422.01_phoneNumber_required": (
        "expects CARRIER_BILLING.PHONE_NUMBER_REQUIRED, a code carrier-billing.yaml does not "
        "list; the gateway answers the listed MISSING_IDENTIFIER"
    ),
    "prepare_payment_422.02_accumulated_threshold_amount_overpassed": _THRESHOLD_CODE,
    "confirm_payment_02_phoneNumber_three_legged": _THREE_LEGGED_NUMBER,
    "cancel_payment_02_phoneNumber_three_legged": _THREE_LEGGED_NUMBER,
    "prepare_payment_12_sync_behaviour_without_validation_info": _ALWAYS_VALIDATED,
    "prepare_payment_14_async_behaviour": _ALWAYS_VALIDATED,
    "create_refund_11_sync_behaviour": (
        "this carrier refunds asynchronously: createRefund answers 201 with refundStatus "
        "processing and the carrier's answer comes after (create_refund_12 passes)"
    ),
    "create_payment_422.02_accumulated_threshold_amount_overpassed": _THRESHOLD_CODE,
    "create_payment_13_async_behaviour": (
        "this carrier answers a one-step createPayment synchronously: 201 with paymentStatus "
        "succeeded (create_payment_12 passes)"
    ),
    "create_refund_422.02_accumulated_threshold_amount_overpassed": (
        "expects CARRIER_BILLING_REFUND.AMOUNT_THRESHOLD_OVERPASSED, a code "
        "carrier-billing-refund.yaml does not list (its 422 lists "
        "CARRIER_BILLING_REFUND.USER_AMOUNT_THRESHOLD_OVERPASSED); this carrier sets no "
        "accumulated refund threshold either: a refund is bounded by what is left of its payment"
    ),
    # Device status
    "device_reachability_status_C01.08_device_identifiers_mismatch": _ONE_IDENTIFIER,
    "device_roaming_status_C01.08_device_identifiers_mismatch": _ONE_IDENTIFIER,
    # KYC match
    "KYC_Match_12_idDocument_required": (
        "second-level validation is optional in KYC match; this carrier matches whatever "
        "properties are given, the ID number included, without requiring it"
    ),
    "KYC_Match_13_idDocument_mismatch_when_idDocument_is_required": (
        "second-level validation is optional in KYC match; a wrong ID number is answered "
        "idDocumentMatch false (scenario KYC_Match_3 checks it)"
    ),
    # One-time password SMS
    "OTPvalidationAPI_404.1_send_code_phone_number_not_belong_to_operator": (
        "this carrier's SMS centre reaches every Chinese operator's mobile numbers "
        "(interconnect), so a code to another operator's line is sent"
    ),
    "retrieve_sim_swap_date_4_sim_never_associated": (
        "a line of this carrier is opened with its SIM; a number without a SIM is not a line"
    ),
}

_NOT_HELD = (
    "China's real-name register holds no kana names, middle names, birth family names or "
    "street parts: this property is answered not_available, never false"
)
_NO_SCORE = "the document defines no score for this property (KYC_MatchResponse)"
# Examples of scenario outlines that cannot apply, by tag and the property they are about.
EXAMPLES_NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "KYC_Match_3_success_specific_property_score": {
        "$.nameKanaHankaku": _NOT_HELD,
        "$.nameKanaZenkaku": _NOT_HELD,
        "$.middleNames": _NOT_HELD,
        "$.familyNameAtBirth": _NOT_HELD,
        "$.streetName": _NOT_HELD,
        "$.streetNumber": _NOT_HELD,
        "$.houseNumberExtension": _NOT_HELD,
        "$.idDocument": _NO_SCORE,
        "$.birthdate": _NO_SCORE,
        "$.postalCode": _NO_SCORE,
        "$.country": _NO_SCORE,
        "$.gender": _NO_SCORE,
    },
    "validate_payment_400.06_exceeding_validation_attempts": {
        "3": (
            "N is the operator's policy (the feature says so): this carrier allows three wrong "
            "codes per payment (each CARRIER_BILLING.INVALID_CODE) and answers the fourth "
            "request CARRIER_BILLING.VALIDATION_FAILED, so the example with 5 requests applies "
            "and passes, the one with 3 does not"
        ),
    },
}

# Whole operations whose successes cannot apply: (the success status, the reason), by feature.
SUCCESSES_NOT_APPLICABLE: dict[str, tuple[int, str]] = {}

# Scenarios that fail as of this release (counted as failed in docs/capabilities.md), by tag:
# what the last run said. Each is work left, not a deployment choice. Strict expected failures:
# one that passes fails the run, so an entry is removed when its work is done.
KNOWN_FAILING: dict[str, str] = {}
