"""VIN checks and decoding, and reading the rest of a vehicle of interest (price, year, interest)
the way feeds write it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from leadcore.leads import vehicles
from leadcore.leads.vin import check_digit, check_vin, model_year

TODAY = date(2026, 11, 27)


def test_a_european_vin_is_valid_and_decoded():
    check = check_vin("WVWZZZCDZMW012345", TODAY)
    assert (check.valid, check.manufacturer, check.model_year) == (True, "Volkswagen", 2021)
    assert check.problem == ""


def test_blanks_hyphens_and_lower_case_are_tidied():
    assert check_vin(" wvwzzz-cdzmw 012345 ", TODAY).vin == "WVWZZZCDZMW012345"


def test_a_north_american_vin_with_the_right_check_digit_is_valid():
    check = check_vin("1HGCM82633A004352", TODAY)
    assert check.valid and check.manufacturer == "Honda" and check.model_year == 2003


def test_a_north_american_vin_with_a_wrong_check_digit_is_flagged():
    check = check_vin("1HGCM82643A004352", TODAY)
    assert not check.valid
    assert "should be 3" in check.problem


def test_check_digit_follows_iso_3779():
    assert check_digit("1HGCM82633A004352") == "3"
    assert check_digit("1M8GDM9AXKP042788") == "X"


@pytest.mark.parametrize("text, words", [
    ("WVWZZZCDZMW01234", "17 characters, this one has 16"),
    ("WVWZZZCDZMW0123456", "has 18"),
    ("TMBJJ7NE5J01234I5", "never contains I"),
    ("WVWZZZCDZMWO12345", "never contains O"),
    ("WVWZZZCDZMW01234Q", "never contains Q"),
])
def test_invalid_vins_say_why(text, words):
    check = check_vin(text, TODAY)
    assert not check.valid and words in check.problem
    assert check.vin == text                        # kept as sent
    assert check.manufacturer == "" and check.model_year is None


def test_an_unknown_maker_is_still_a_valid_vin():
    check = check_vin("ZZZZZZZZZZZZZZZZZ", TODAY)
    assert check.valid and check.manufacturer == ""


def test_the_model_year_is_the_latest_not_after_next_year():
    assert model_year("WAUZZZ8K9AA123456", TODAY) == 2010        # "A": 1980, 2010 or 2040
    assert model_year("WAUZZZ8K9AA123456", date(2039, 6, 1)) == 2040
    assert model_year("WAUZZZ8K9ZA123456", TODAY) is None         # Z codes no year


def test_a_vehicle_keeps_an_invalid_vin_and_flags_it():
    clean = vehicles.cleaned(vehicles.Vehicle(make="Skoda", vin="TMBJJ7NE5J01234I5"), TODAY)
    assert (clean.vin, clean.vin_valid) == ("TMBJJ7NE5J01234I5", False)
    assert "I" in clean.vin_problem


def test_a_vehicle_without_vin_has_no_vin_verdict():
    clean = vehicles.cleaned(vehicles.Vehicle(make="Audi", year=1850, comments=" x "), TODAY)
    assert clean.vin_valid is None and clean.year is None and clean.comments == "x"


@pytest.mark.parametrize("text, price", [
    ("31990", Decimal("31990.00")), ("25.990 €", Decimal("25990.00")),
    ("25.990,00 EUR", Decimal("25990.00")), ("25,990.50", Decimal("25990.50")),
    ("38,900 EUR", Decimal("38900.00")), ("489,5", Decimal("489.50")), ("259.99", Decimal("259.99")),
    ("auf Anfrage", None), ("", None), ("99999999999", None),
])
def test_prices_in_german_and_english_notation(text, price):
    assert vehicles.parse_price(text) == price


@pytest.mark.parametrize("text, year", [("2021", 2021), ("04/2020", 2020), ("EZ 2019", 2019),
                                        ("neu", None), ("12345", None)])
def test_years_are_found_in_what_feeds_write(text, year):
    assert vehicles.parse_year(text) == year


@pytest.mark.parametrize("text, code", [
    ("buy", "buy"), ("Lease", "lease"), ("trade-in", "trade_in"), ("sell", "sell"),
    ("test-drive", "test_drive"), ("Probefahrt", "test_drive"), ("Test drive", "test_drive"),
    ("something else", None), (None, None),
])
def test_interests_as_feeds_and_marketplaces_write_them(text, code):
    assert vehicles.interest_code(text) == code
