"""What leads say: German subject lines by lead type (with car models, years and mileages), and
the notes written on leads and on their work."""
from __future__ import annotations

import numpy as np

_NEW_MODELS = (
    "VW Golf 8 GTI", "VW Golf 8 Variant", "VW ID.3", "VW ID.4 Pro", "VW ID.7 Tourer", "VW T-Roc",
    "VW Tiguan", "VW Passat Variant", "Skoda Octavia", "Skoda Octavia Combi", "Skoda Enyaq",
    "Skoda Kodiaq", "Audi A3 Sportback", "Audi Q4 e-tron", "Audi A6 Avant", "BMW 320d Touring",
    "BMW X3 xDrive20d", "BMW iX1", "Mercedes-Benz GLC 300 e", "Mercedes-Benz A 200",
    "Opel Astra", "Opel Corsa Electric", "Seat Ibiza", "Cupra Born", "Cupra Formentor",
    "Ford Puma", "Toyota Corolla Touring Sports", "Hyundai Ioniq 5", "Kia EV6", "Dacia Duster",
)
_USED_MODELS = (
    "VW Golf 7", "VW Golf 8 GTI", "VW Polo", "VW up!", "VW Passat Variant", "VW Touran",
    "VW Tiguan", "BMW 118i", "BMW 320d Touring", "BMW 520d Touring", "Audi A4 Avant",
    "Audi A3 Sportback", "Mercedes-Benz C 220 d T-Modell", "Mercedes-Benz B 180", "Opel Astra",
    "Opel Insignia Sports Tourer", "Opel Corsa", "Ford Focus Turnier", "Ford Fiesta",
    "Skoda Fabia", "Skoda Octavia Combi", "Skoda Superb", "Seat Leon ST", "Toyota Yaris Hybrid",
    "Mazda CX-5", "Volvo XC60", "Renault Clio", "Peugeot 308", "Mini Cooper", "Hyundai Tucson",
)
_SUBJECTS = {
    "new_car": ("Probefahrt {m}", "Anfrage {m}", "Angebot {m} Neuwagen", "Konfiguration {m}",
                "Leasinganfrage {m}", "Lieferzeit {m}?", "Probefahrt {m} am Samstag"),
    "used_car": ("Anfrage {u}, EZ {y}", "Anfrage {u}, EZ {y}, {km} km",
                 "Ist der {u} (EZ {y}) noch verfügbar?", "Probefahrt {u}, EZ {y}",
                 "Preisvorschlag {u}, EZ {y}", "Besichtigung {u}"),
    "service": ("Inspektion Termin", "Inspektion {u}", "Reifenwechsel {u}", "HU/AU Termin {u}",
                "Ölwechsel {u}", "Bremsen prüfen {u}", "Klimaservice {u}", "Unfallschaden {u}"),
    "trade_in": ("Inzahlungnahme {u}", "Inzahlungnahme {u}, EZ {y}, {km} km",
                 "Bewertung {u}, EZ {y}", "Ankauf {u}"),
    "financing": ("Finanzierungsangebot {m}", "Finanzierung {m}, {n} Monate",
                  "Leasing {m}, {n} Monate, {kmy} km/Jahr", "Ballonfinanzierung {u}, EZ {y}"),
    "other": ("Rückruf erbeten", "Frage zu Zubehör", "Allgemeine Anfrage", "Terminanfrage",
              "Frage zur Garantie {u}", "Anhängerkupplung nachrüsten {u}"),
}
LEAD_NOTES = (
    "Kunde bittet um Rückruf am Vormittag.", "Bitte Angebot per E-Mail schicken.",
    "Kunde hat eine Inzahlungnahme erwähnt.", "Finanzierung gewünscht, Anzahlung ca. 5.000 €.",
    "Nur erreichbar nach 17 Uhr.", "Probefahrt am Wochenende möglich?",
    "Hat bereits ein Angebot vom Wettbewerber.", "Wunschfarbe Schwarz oder Grau.",
    "Firmenwagen, Rechnung auf die Firma.", "Nachricht vom Portal: Ist das Fahrzeug unfallfrei?",
    "Nachricht vom Portal: Was ist Ihr letzter Preis?", "Ehepartner kommt zur Probefahrt mit.",
    "Bestandskunde aus der Werkstatt.", "Sind Winterreifen dabei?",
    "Lieferung bis Ende des Monats gewünscht.", "Kunde wünscht Kontakt per WhatsApp.",
)
WORK_NOTES = (
    "Kunde telefonisch erreicht, Probefahrt vereinbart.",
    "Angebot per E-Mail verschickt, Rückmeldung abwarten.",
    "Nicht erreicht, Nachricht auf der Mailbox hinterlassen.",
    "Kunde überlegt noch, Wiedervorlage gesetzt.", "Bewertung der Inzahlungnahme angefordert.",
    "Finanzierungsanfrage an die Bank gestellt.", "Rückruf für nächste Woche vereinbart.",
    "Kunde wartet auf das Angebot seiner Hausbank.", "Probefahrt durchgeführt, Kunde meldet sich.",
    "Termin in der Werkstatt eingetragen.", "Zweites Angebot mit Nachlass geschickt.",
    "Kunde ist im Urlaub, meldet sich danach.",
)


def subject_pool(codes: tuple[str, ...], per_type: int, rng: np.random.Generator) -> list[str]:
    """per_type German subjects for each lead type, in the order of codes."""
    pool = []
    for code in codes:
        templates = _SUBJECTS.get(code, _SUBJECTS["other"])
        for _ in range(per_type):
            km = int(rng.integers(5, 180)) * 1000
            pool.append(templates[int(rng.integers(len(templates)))].format(
                m=_NEW_MODELS[int(rng.integers(len(_NEW_MODELS)))],
                u=_USED_MODELS[int(rng.integers(len(_USED_MODELS)))],
                y=int(rng.integers(2012, 2025)), km=f"{km:,}".replace(",", "."),
                n=int(rng.choice([24, 36, 48, 60])), kmy=f"{int(rng.choice([10, 15, 20, 25]))}.000"))
    return pool
