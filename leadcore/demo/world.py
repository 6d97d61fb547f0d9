"""The dealership's world: its locations with the postal codes and area codes around them, and
the German names (drawn once from Faker) that staff and customers are made of."""
from __future__ import annotations

import re
import unicodedata

from faker import Faker

# name -> (postal-code range, city, phone area codes) near each location
LOCATIONS = {
    "Berlin-Mitte": [((10115, 14199), "Berlin", ("30",)),
                     ((16321, 16321), "Bernau bei Berlin", ("3338",)),
                     ((16515, 16515), "Oranienburg", ("3301",)),
                     ((15711, 15711), "Königs Wusterhausen", ("3375",))],
    "Potsdam": [((14467, 14482), "Potsdam", ("331",)),
                ((14513, 14513), "Teltow", ("3328",)),
                ((14532, 14532), "Kleinmachnow", ("33203",)),
                ((14612, 14612), "Falkensee", ("3322",)),
                ((14542, 14542), "Werder (Havel)", ("3327",))],
    "Leipzig": [((4103, 4357), "Leipzig", ("341",)),
                ((4416, 4416), "Markkleeberg", ("341",)),
                ((4425, 4425), "Taucha", ("34298",)),
                ((4435, 4435), "Schkeuditz", ("34204",))],
}

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def ascii_slug(text: str, keep: str = "") -> str:
    """Lower-case ASCII slug of a name for e-mail addresses ("Jürgen" -> "juergen")."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(f"[^a-z0-9{re.escape(keep)}]+", "", text)


class NamePools:
    """Pools of German names, streets and places drawn once from Faker."""

    def __init__(self, seed: int, size: int):
        fake = Faker("de_DE")
        fake.seed_instance(seed)
        name_ok = re.compile(r"[A-ZÄÖÜ][a-zäöüß]+(-[A-ZÄÖÜ][a-zäöüß]+)?")
        self.male = [n for n in (fake.first_name_male() for _ in range(size)) if name_ok.fullmatch(n)]
        self.female = [n for n in (fake.first_name_female() for _ in range(size)) if name_ok.fullmatch(n)]
        self.last = [n for n in (fake.last_name() for _ in range(size * 2)) if name_ok.fullmatch(n)]
        self.streets = [fake.street_name() for _ in range(size)]
        self.places = [(fake.postcode(), fake.city()) for _ in range(max(200, size // 4))]
