import pytest

from services.common.errors import ApiError
from services.otp.mobile import mask_mobile, normalise_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "9876543210",
        "+919876543210",
        "+91 98765 43210",
        "919876543210",
        "09876543210",
        "98765-43210",
        "(+91) 9876543210",
    ],
)
def test_accepted_forms_normalise_to_ten_digits(raw):
    assert normalise_mobile(raw) == "9876543210"


@pytest.mark.parametrize(
    "raw", ["", "5876543210", "987654321", "98765432101", "+9298765432", "98765abcde", "+91 58765 43210"]
)
def test_anything_else_is_a_clear_422(raw):
    with pytest.raises(ApiError) as err:
        normalise_mobile(raw)
    assert (err.value.status, err.value.code) == (422, "invalid_mobile")


def test_masking_shows_only_the_ends():
    assert mask_mobile("9876543210") == "98XXXXXX10"
