"""The vehicle of interest on the lead detail: make, model, year, interest, stock number, price,
and the VIN with what it decodes to, or a warning when it is not valid (kept as sent)."""
from __future__ import annotations

import streamlit as st
from babel.numbers import format_currency, format_decimal

from leadcore.i18n import _
from leadcore.leads import vehicles
from leadcore.ui import format as fmt
from leadcore.ui import session

LOCALE = "de_DE"


def _price(vehicle: vehicles.Vehicle) -> str:
    if vehicle.price is None:
        return ""
    if vehicle.price_currency:
        try:
            return format_currency(vehicle.price, vehicle.price_currency, locale=LOCALE)
        except (ValueError, KeyError):   # a currency code babel does not know: the number and the code
            pass
    return f"{format_decimal(vehicle.price, locale=LOCALE)} {vehicle.price_currency}".strip()


def vehicle_block(lead_id: int) -> None:
    """Every vehicle of the lead: the wanted ones, then the customer's own (trade-in, sell),
    labelled. Nothing when the lead has none."""
    for position, vehicle in enumerate(vehicles.get_vehicles(session.cursor(), session.require_user(),
                                                             session.now(), lead_id)):
        _one_vehicle(lead_id, position, vehicle)


def _one_vehicle(lead_id: int, position: int, vehicle: vehicles.Vehicle) -> None:
    own = vehicle.interest in vehicles.OWN_VEHICLE
    with st.container(border=True, key=f"vehicle_block_{lead_id}" + (f"_{position}" if position else "")):
        st.caption(_("The customer's vehicle ({interest})").format(interest=vehicles.interest_label(vehicle.interest))
                   if own else _("Vehicle of interest"))
        wish = " · ".join(p for p in (vehicles.interest_label(vehicle.interest),
                                      vehicles.status_label(vehicle.status), vehicle.condition) if p)
        price = _price(vehicle)
        lines = [" ".join(p for p in (vehicle.description,) if p), wish,
                 _("Stock number: {number}").format(number=vehicle.stock_number) if vehicle.stock_number else "",
                 (_("Price: {price}").format(price=price) + (f" ({vehicle.price_type})" if vehicle.price_type else ""))
                 if vehicle.price is not None else "",
                 _("Odometer: {value} {units}").format(value=format_decimal(vehicle.odometer, locale=LOCALE),
                                                       units=vehicle.odometer_units).strip()
                 if vehicle.odometer is not None else "",
                 _("Colours: {colors}").format(colors=vehicle.colors) if vehicle.colors else "",
                 _("Finance: {finance}").format(finance=vehicle.finance) if vehicle.finance else "",
                 _("VIN: {vin}").format(vin=vehicle.vin) if vehicle.vin else "",
                 vehicle.comments]
        # st.text: makes, models and comments come from outside and are never read as Markdown.
        st.text("\n".join(line for line in lines if line))
        if vehicle.year_conflict:
            st.warning(_("The VIN says model year {vin_year}, the request says {year}; {year} is shown. "
                         "Please check it with the customer.").format(vin_year=vehicle.vin_model_year,
                                                                     year=vehicle.year), icon=":material/warning:")
        if vehicle.vin and vehicle.vin_valid is False:
            st.warning(_("The VIN {vin} is not valid: {problem} It is kept as sent; please check it "
                         "with the customer.").format(vin=fmt.md_escape(vehicle.vin),
                                                     problem=fmt.md_escape(vehicle.vin_problem)),
                       icon=":material/warning:")
        elif vehicle.vin and (vehicle.vin_manufacturer or vehicle.vin_model_year) and not vehicle.year_conflict:
            decoded = " · ".join(p for p in (
                vehicle.vin_manufacturer,
                _("model year {year}").format(year=vehicle.vin_model_year) if vehicle.vin_model_year else "") if p)
            st.caption(_("From the VIN: {decoded}").format(decoded=fmt.md_escape(decoded)))
