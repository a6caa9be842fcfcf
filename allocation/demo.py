"""The demo alliance: ``manage.py load_demo`` builds a realistic round from the real reference data.

Thirty requesting states (real World Bank economies across income groups and regions), ten donors
pledging real accelerators at two invented providers, about 120 compute requests in round 1 of the
call "Public-interest AI 2026" (submitted, checked, reviewed, the round closed and ready to solve) and
an open round 2 with a few drafts, submissions and pledges. Every change goes through the services,
so every rule of the platform holds. Names of ministries and donor agencies are real; the pledges,
requests and providers are invented for the demo.

Deterministic (one ``random.Random(2026)``; only dates follow the clock), in one transaction, and
loaded once: when the demo's call already exists, ``demo_load`` refuses with ``DemoAlreadyLoaded`` and
changes nothing. To rebuild it, empty the database first (``manage.py flush``, or delete the SQLite
file and migrate). Sizes follow the shape of shared/scenarios/medium-200x40.json: requests of a few
thousand h100e-hours (a long tail up to ~100,000), lots of tens of thousands of GPU-hours, donated
supply about 45 % of eligible demand plus offers that pooled cash can partly buy.
"""
import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from alliance.exceptions import ApplicationError
from allocation import services
from allocation.models import Call, HardwareType, Pledge, RequestStatus, Round
from allocation.reference import hardware_types_load
from members.models import MemberState, OrganisationKind, Role
from members.services import member_states_load, organisation_create, person_create

SEED = 2026
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published on purpose: demo accounts only)
CALL_TITLE = "Public-interest AI 2026"
SECRETARIAT = "GACP Secretariat"
EMAIL_DOMAIN = "demo.gacp.example.org"
IN_KIND_SHARE = 0.45  # donated h100e-hours over eligible demand
OFFERED_SHARE = 0.15  # offered h100e-hours over eligible demand
CASH_SHARE = 0.55  # pooled cash over the price of all offered capacity

H100, H200, B200 = "NVIDIA_H100_SXM5_80GB", "NVIDIA_H200_SXM_141GB", "NVIDIA_B200"
A100, L40S, V100 = "NVIDIA_A100_SXM4_80GB", "NVIDIA_L40S", "NVIDIA_V100_SXM2_32GB"
MI300X, TPU = "AMD_MI300X", "GOOGLE_TPU_V5P"
# Market value per GPU-hour (US$), as in the medium scenario.
VALUE = {H100: 2.4, H200: 3.2, B200: 5.0, A100: 1.3, L40S: 0.9, V100: 0.5, MI300X: 2.2, TPU: 2.1}
SMALL_MODEL_HARDWARE = [H100, A100, L40S, V100, MI300X, TPU]
MID_MODEL_HARDWARE = [H100, H200, A100, MI300X, L40S, B200]
LARGE_MODEL_HARDWARE = [H100, H200, B200, MI300X, TPU]
REGIONS = ["SSA", "SAS", "MNA", "EAP", "LAC", "ECA", "NAM"]
LOW = ["LIC", "LMIC"]

# iso3: (short name, ministry portfolio, local languages, main crop)
STATES = {
    "KEN": ("Kenya", "Information, Communications and the Digital Economy", ["Swahili", "Dholuo", "Kikuyu"], "maize"),
    "ETH": ("Ethiopia", "Innovation and Technology", ["Amharic", "Afaan Oromo", "Tigrinya"], "teff"),
    "NGA": ("Nigeria", "Communications, Innovation and Digital Economy", ["Hausa", "Yoruba", "Igbo"], "cassava"),
    "TZA": ("Tanzania", "Information, Communication and Information Technology", ["Swahili"], "maize"),
    "UGA": ("Uganda", "ICT and National Guidance", ["Luganda", "Runyankole"], "cassava"),
    "RWA": ("Rwanda", "ICT and Innovation", ["Kinyarwanda"], "beans"),
    "SEN": ("Senegal", "Communication, Telecommunications and Digital Affairs", ["Wolof", "Pulaar"], "groundnut"),
    "GHA": ("Ghana", "Communication, Digital Technology and Innovations", ["Twi", "Ewe", "Dagbani"], "cocoa"),
    "MWI": ("Malawi", "Information and Digitalisation", ["Chichewa"], "maize"),
    "MOZ": ("Mozambique", "Science, Technology and Higher Education", ["Emakhuwa", "Xichangana"], "cassava"),
    "SLE": ("Sierra Leone", "Communication, Technology and Innovation", ["Krio", "Mende", "Temne"], "rice"),
    "ZAF": ("South Africa", "Science, Technology and Innovation", ["isiZulu", "isiXhosa", "Sesotho"], "maize"),
    "BGD": ("Bangladesh", "Posts, Telecommunications and Information Technology", ["Bangla"], "rice"),
    "NPL": ("Nepal", "Communication and Information Technology", ["Nepali", "Maithili"], "rice"),
    "IND": ("India", "Electronics and Information Technology", ["Hindi", "Tamil", "Marathi"], "wheat"),
    "PAK": ("Pakistan", "IT and Telecommunication", ["Urdu", "Pashto", "Sindhi"], "wheat"),
    "EGY": ("Egypt", "Communications and Information Technology", ["Egyptian Arabic"], "wheat"),
    "MAR": ("Morocco", "Digital Transition and Administrative Reform", ["Darija", "Tamazight"], "olive"),
    "KHM": ("Cambodia", "Post and Telecommunications", ["Khmer"], "rice"),
    "PHL": ("the Philippines", "Information and Communications Technology", ["Filipino", "Cebuano"], "rice"),
    "IDN": ("Indonesia", "Communication and Digital Affairs", ["Javanese", "Sundanese"], "rice"),
    "HTI": ("Haiti", "National Education and Vocational Training", ["Haitian Creole"], "plantain"),
    "BOL": ("Bolivia", "Education", ["Quechua", "Aymara", "Guarani"], "quinoa"),
    "COL": ("Colombia", "Science, Technology and Innovation", ["Wayuunaiki", "Nasa Yuwe"], "coffee"),
    "PER": ("Peru", "Production", ["Quechua", "Aymara"], "potato"),
    "URY": ("Uruguay", "Industry, Energy and Mining", ["Rioplatense Spanish"], "soybean"),
    "CHL": ("Chile", "Science, Technology, Knowledge and Innovation", ["Mapudungun"], "grape"),
    "UZB": ("Uzbekistan", "Digital Technologies", ["Uzbek", "Karakalpak"], "cotton"),
    "KGZ": ("the Kyrgyz Republic", "Digital Development", ["Kyrgyz"], "wheat"),
    "MDA": ("Moldova", "Economic Development and Digitalization", ["Romanian", "Gagauz"], "grape"),
}
FLAGSHIP = {"KEN": "triage", "TZA": "triage", "NGA": "tutor", "IND": "caselaw", "UGA": "crop",
            "BGD": "downscaling", "ETH": "speech", "GHA": "translation"}

PROVIDERS = {  # key: (name, home state, username, regions hosted)
    "nrc": ("Nordic Research Cloud (demo provider)", "NOR", "provider-nrc", ["ECA", "NAM", "EAP", "LAC"]),
    "pacx": ("Pan-African Compute Exchange (demo provider)", "KEN", "provider-pacx", ["SSA", "MNA", "SAS"]),
}
# username suffix: (name, home state, [(hardware, region, relative size, earmark)], cash share)
DONORS = {
    "jpn": ("Government of Japan — Digital Agency", "JPN",
            [(H100, "EAP", 3, {}), (H100, "SAS", 2, {"income_groups": LOW}), (H200, "SSA", 2, {})], 0),
    "deu": ("Germany — Federal Ministry for Economic Cooperation and Development (BMZ)", "DEU",
            [(H200, "ECA", 3, {"sectors": ["health", "science"]}), (A100, "SSA", 2, {"income_groups": LOW}),
             (B200, "MNA", 1.5, {})], 0),
    "gbr": ("United Kingdom — Foreign, Commonwealth & Development Office", "GBR",
            [(A100, "ECA", 2.5, {}), (V100, "SSA", 1.5, {"sectors": ["justice", "education"]})], 0.4),
    "fra": ("France — Agence française de développement", "FRA",
            [(A100, "SAS", 1, {"income_groups": LOW}), (V100, "ECA", 1.5, {}),
             (MI300X, "MNA", 1.5, {"countries": ["SEN", "MAR", "HTI"]})], 0),
    "nor": ("Norway — Norad", "NOR",
            [(B200, "SSA", 2, {}), (H100, "EAP", 1.5, {}), (L40S, "EAP", 2, {"income_groups": LOW})], 0.25),
    "kor": ("Republic of Korea — Ministry of Science and ICT", "KOR",
            [(V100, "LAC", 2, {"income_groups": LOW}), (H200, "EAP", 2, {})], 0),
    "can": ("Canada — International Development Research Centre", "CAN",
            [(L40S, "NAM", 2.5, {}), (H100, "LAC", 1.5, {"sectors": ["agriculture", "climate"]})], 0),
    "ita": ("Italy — Agenzia Italiana per la Cooperazione allo Sviluppo", "ITA",
            [(V100, "SSA", 1, {"sectors": ["justice", "science"]}), (H100, "MNA", 2, {}),
             (MI300X, "SAS", 2, {"income_groups": LOW})], 0),
    "are": ("United Arab Emirates — Ministry of Foreign Affairs", "ARE",
            [(H100, "SSA", 2.5, {"income_groups": LOW}), (V100, "MNA", 1, {})], 0),
    "eu": ("European Commission — Directorate-General for International Partnerships", None,
           [(B200, "EAP", 1, {"income_groups": LOW}), (TPU, "EAP", 2, {}), (H100, "LAC", 1, {})], 0.35),
}
OFFERS = {  # provider: [(hardware, region, relative size, price per GPU-hour)]
    "nrc": [(H100, "EAP", 2, 2.15), (A100, "EAP", 2, 0.97), (TPU, "NAM", 1.5, 2.19), (V100, "LAC", 1, 0.42)],
    "pacx": [(H200, "SSA", 2, 3.36), (H100, "MNA", 1.5, 2.15), (L40S, "SAS", 1.5, 0.85)],
}


@dataclass(frozen=True)
class Template:
    key: str
    sector: str
    title: str
    abstract: str
    scale: int  # typical size in h100e-hours
    params: tuple[float, ...]
    local_language: bool = False
    open_weights: bool = True
    pretraining: bool = False  # a run that is useless below a minimum size


TEMPLATES = [
    Template("triage", "health", "{lang} clinical triage assistant for community health workers",
             "Fine-tune a small open model to triage symptoms that community health workers in {country} report "
             "in {lang}, with referral advice checked against the national clinical guidelines.",
             4000, (3, 7, 8), local_language=True),
    Template("xray", "health", "Tuberculosis screening from chest X-rays in district hospitals",
             "Train and validate an open computer-vision model on 180,000 de-identified chest X-rays from public "
             "hospitals in {country}, to prioritise TB cases where radiologists are scarce.", 2500, (0.3,)),
    Template("maternal", "health", "Maternal health SMS helpline in {lang}",
             "An open assistant answering pregnant women's questions by SMS in {lang}, fine-tuned on material "
             "written with midwives of the Ministry of Health of {country}.", 3000, (3, 7), local_language=True),
    Template("surveillance", "health", "Disease-surveillance forecasting from district health records",
             "Forecast weekly malaria, cholera and measles cases per district of {country} from DHIS2 records and "
             "weather data, to pre-position medicines.", 1500, (0.3, 1)),
    Template("tutor", "education", "{lang} maths tutor for primary schools",
             "A small open tutor that explains primary-school maths step by step in {lang}, aligned with the "
             "national curriculum of {country} and tested in 40 pilot schools.", 5000, (3, 7, 8), local_language=True),
    Template("reading", "education", "Automated early-grade reading assessment in {lang}",
             "Speech models that listen to children reading aloud in {lang} and score fluency, so teachers in "
             "{country} can run the national reading assessment every term.", 3000, (0.3, 1), local_language=True),
    Template("questions", "education", "Curriculum-aligned exercise generation for secondary science",
             "Generate and grade exercises for the secondary science curriculum of {country}, with teachers "
             "reviewing every item before it reaches students.", 4000, (7, 8, 13)),
    Template("caselaw", "justice", "Case-law search and summarisation for the judiciary",
             "Retrieval and summarisation over 30 years of judgments of the courts of {country}, so judges and "
             "clerks find precedent in minutes rather than days.", 6000, (7, 8, 13), open_weights=False),
    Template("legalaid", "justice", "Legal-aid assistant in {lang} for land and inheritance disputes",
             "An assistant that explains rights and procedures in {lang} to people without a lawyer in {country}, "
             "built with the national legal-aid board.", 5000, (7, 8), local_language=True),
    Template("transcription", "justice", "Court-record transcription in {lang}",
             "Speech recognition for hearings held in {lang}, to cut the backlog of untranscribed court records in "
             "{country}.", 3500, (0.3, 1), local_language=True),
    Template("crop", "agriculture", "Crop disease detection from smartphone photos of {crop}",
             "An offline vision model that extension officers in {country} run on basic phones to detect {crop} "
             "diseases, trained on 250,000 labelled field photos.", 2000, (0.3,)),
    Template("advisory", "agriculture", "{lang} voice advisory for smallholder farmers",
             "A voice assistant answering farmers' questions in {lang} on planting, pests and market prices, "
             "drawing on the extension service of {country}.", 4500, (3, 7), local_language=True),
    Template("yield", "agriculture", "{crop} yield forecasting from Sentinel-2 imagery",
             "Field-level {crop} yield forecasts for {country} from satellite imagery and weather, for food-security "
             "planning two months before harvest.", 3000, (0.3, 1)),
    Template("downscaling", "climate", "Climate downscaling to 1 km for national adaptation planning",
             "Generative downscaling of CMIP6 projections to 1 km rainfall and temperature for {country}, for the "
             "national adaptation plan and infrastructure design.", 20000, (0.3, 1), pretraining=True),
    Template("flood", "climate", "Flood early-warning nowcasting for major river basins",
             "Nowcast river levels six to 48 hours ahead from radar, gauges and satellite rainfall, feeding the "
             "early-warning service of {country}.", 8000, (0.3, 1)),
    Template("drought", "climate", "Drought and heat-stress forecasting for pastoral areas",
             "Seasonal forecasts of drought and heat stress for pastoral districts of {country}, to trigger "
             "anticipatory cash transfers.", 3000, (0.3,)),
    Template("speech", "language", "{lang} speech recognition and text-to-speech models",
             "Open speech recognition and synthesis for {lang}, trained on 2,000 hours of recordings collected with "
             "community radio stations in {country}.", 5000, (0.3, 1), local_language=True),
    Template("translation", "language", "{lang}–English machine translation for public information",
             "Open translation models between {lang} and English (and French or Portuguese where used) for health, "
             "weather and government notices in {country}.", 6000, (1, 3), local_language=True),
    Template("slm", "language", "Open {lang} small language model (pre-training from scratch)",
             "Pre-train an open small language model on a curated 40-billion-token {lang} corpus assembled by "
             "universities of {country}.", 30000, (1, 3, 8), local_language=True, pretraining=True),
    Template("continued", "language", "Continued pre-training of an open 70B model on {lang} and regional corpora",
             "Adapt an open 70-billion-parameter model to {lang} and related languages, to serve as the base for "
             "public services in {country}.", 60000, (70,), local_language=True, pretraining=True),
    Template("protein", "science", "Protein-structure screening for neglected tropical disease targets",
             "Structure prediction and docking over 12,000 parasite proteins with the national research institute "
             "of {country}, to shortlist drug targets.", 15000, (0.3, 1), pretraining=True),
    Template("materials", "science", "Materials screening for low-cost solar cells",
             "Machine-learned interatomic potentials to screen perovskite compositions that universities in "
             "{country} can synthesise with local precursors.", 10000, (0.3,)),
    Template("citizen", "public_services", "{lang} assistant for citizen services and e-government forms",
             "An assistant that helps citizens of {country} fill in identity, tax and benefit forms in {lang}, "
             "running on the government cloud.", 4000, (7, 8, 13), local_language=True),
    Template("documents", "public_services", "Classification of scanned land and civil-registry documents",
             "Open document-understanding models to index 20 million scanned land and civil-registry records of "
             "{country}.", 2000, (0.3, 1), open_weights=False),
]
INELIGIBLE_NOTES = [
    "Out of scope: the project develops a commercial product for a state-owned company, not public-interest "
    "research.",
    "The request duplicates another request of the same ministry in this round; please merge them next round.",
    "No data-protection assessment was attached for the personal health data the project processes.",
    "The compute plan is for inference hosting, which this call does not fund (training and evaluation only).",
    "The lead institution is not a public body of the member state and no ministry co-signed the request.",
    "The model weights would not be released and the project gives no public-interest justification for that.",
]
REVIEW_COMMENTS = [
    (0.8, "Strong public-interest case, realistic compute plan and a credible team; fund in full if possible."),
    (0.6, "Sound project; the evaluation plan should name the held-out test sets and the baseline."),
    (0.45, "Useful aim, but the compute estimate looks generous for the model size; a smaller start is advised."),
    (0.0, "Weak justification of the compute and no plan for maintaining the model after the grant."),
]


class DemoAlreadyLoaded(ApplicationError):
    """The demo alliance is already in the database; loading it again would duplicate it."""


@dataclass
class DemoSummary:
    credentials: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, organisation
    figures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # section: [(label, value)]
    round_ids: dict[str, int] = field(default_factory=dict)


def demo_exists() -> bool:
    return Call.objects.filter(title=CALL_TITLE).exists()


def _money(value: float, step: int = 1) -> Decimal:
    return Decimal(round(value / step) * step)


def _hours(value: float) -> Decimal:
    step = 100 if value >= 1000 else 50
    return Decimal(max(step, round(value / step) * step))


class _Builder:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.now = timezone.now()
        self.today = self.now.date()
        self.summary = DemoSummary()
        self.hardware: dict[str, HardwareType] = {}
        self.states: dict[str, MemberState] = {}
        self.officers: dict[str, object] = {}  # "ministry-ken", "donor-jpn", ... -> user
        self.providers = {}

    # --- people and organisations --------------------------------------------------------------

    def person(self, username: str, organisation, role: str, first_name: str = "", last_name: str = ""):
        membership = person_create(username=username, password=DEMO_PASSWORD, organisation=organisation, role=role,
                                   email=f"{username}@{EMAIL_DOMAIN}", first_name=first_name, last_name=last_name)
        self.summary.credentials.append((username, Role(role).label, organisation.name))
        self.officers[username] = membership.user
        return membership.user

    def reference_data(self) -> None:
        needed_states = set(STATES) | {d[1] for d in DONORS.values() if d[1]} | {p[1] for p in PROVIDERS.values()}
        if MemberState.objects.filter(iso3__in=needed_states).count() < len(needed_states):
            member_states_load()
        if HardwareType.objects.filter(key__in=VALUE).count() < len(VALUE):
            hardware_types_load()
        self.hardware = {h.key: h for h in HardwareType.objects.filter(key__in=VALUE)}
        self.states = {s.iso3: s for s in MemberState.objects.all()}

    def cast(self) -> None:
        secretariat = organisation_create(name=SECRETARIAT, kind=OrganisationKind.SECRETARIAT)
        officer = self.person("secretariat", secretariat, Role.SECRETARIAT_OFFICER, "Amina", "Diallo")
        officer.is_staff = True  # the secretariat reads the admin (view permissions only: changes go via services)
        officer.save(update_fields=["is_staff"])
        officer.user_permissions.set(Permission.objects.filter(
            content_type__app_label__in=["members", "allocation"], codename__startswith="view_"))
        for number, (first, last) in enumerate([("Rahul", "Mehta"), ("Lucía", "Fernández"), ("Kwame", "Asante")], 1):
            self.person(f"reviewer{number}", secretariat, Role.REVIEWER, first, last)
        for iso3, (name, portfolio, _, _) in STATES.items():
            ministry = organisation_create(name=f"Ministry of {portfolio} of {name}", kind=OrganisationKind.MINISTRY,
                                           member_state=self.states[iso3])
            self.person(f"ministry-{iso3.lower()}", ministry, Role.MINISTRY_OFFICER)
        for key, (name, home, *_rest) in DONORS.items():
            donor = organisation_create(name=name, kind=OrganisationKind.DONOR,
                                        member_state=self.states[home] if home else None)
            self.person(f"donor-{key}", donor, Role.DONOR_OFFICER)
        for key, (name, home, username, _) in PROVIDERS.items():
            self.providers[key] = organisation_create(name=name, kind=OrganisationKind.PROVIDER,
                                                      member_state=self.states[home])
            self.person(username, self.providers[key], Role.PROVIDER_OFFICER)
        user_model = get_user_model()
        password_validation.validate_password(DEMO_PASSWORD)
        user_model.objects.create_superuser("admin", f"admin@{EMAIL_DOMAIN}", DEMO_PASSWORD)
        self.summary.credentials.append(("admin", "Django superuser", "—"))

    # --- capacity ------------------------------------------------------------------------------

    def provider_for(self, region: str):
        return next(self.providers[key] for key, spec in PROVIDERS.items() if region in spec[3])

    def lot(self, hardware: str, region: str, h100e_hours: float, start: datetime.date, earmark=None, price=None):
        gpu_hours = h100e_hours * self.rng.uniform(0.85, 1.15) / float(self.hardware[hardware].h100e)
        earmark = earmark or {}
        spec = {
            "provider": self.provider_for(region), "hardware": self.hardware[hardware], "region": region,
            "gpu_hours": _hours(gpu_hours), "available_from": start,
            "available_until": start + datetime.timedelta(days=364),
            "value_usd_per_gpu_hour": Decimal(str(VALUE[hardware])),
            "earmark_sectors": earmark.get("sectors", []), "earmark_income_groups": earmark.get("income_groups", []),
            "earmark_countries": [self.states[iso3] for iso3 in earmark.get("countries", [])],
        }
        if price is not None:
            spec["price_usd_per_gpu_hour"] = Decimal(str(price))
        return spec

    def capacity(self, round_: Round, demand: float) -> dict:
        start = self.today + datetime.timedelta(days=45)
        in_kind_total = sum(size for donor in DONORS.values() for _, _, size, _ in donor[2])
        for key, (_, _, lots, _) in DONORS.items():
            specs = [self.lot(hw, region, IN_KIND_SHARE * demand * size / in_kind_total, start, earmark)
                     for hw, region, size, earmark in lots]
            services.pledge_create(user=self.officers[f"donor-{key}"], round_=round_, kind=Pledge.Kind.IN_KIND,
                                   lots=specs, note="Demo pledge: illustrative, not a real commitment.")
        offered_total = sum(size for lots in OFFERS.values() for _, _, size, _ in lots)
        offered_price = 0.0
        for key, lots in OFFERS.items():
            specs = [self.lot(hw, region, OFFERED_SHARE * demand * size / offered_total, start, price=price)
                     for hw, region, size, price in lots]
            offered_price += sum(float(s["gpu_hours"] * s["price_usd_per_gpu_hour"]) for s in specs)
            services.offer_create(user=self.officers[PROVIDERS[key][2]], round_=round_, lots=specs,
                                  note="Demo offer: capacity for sale at about its market value.")
        cash = 0
        for key, (_, _, _, share) in DONORS.items():
            if share:
                amount = _money(CASH_SHARE * offered_price * share, step=10_000)
                cash += amount
                services.pledge_create(user=self.officers[f"donor-{key}"], round_=round_, kind=Pledge.Kind.CASH,
                                       cash_usd=amount, note="Demo cash pledge to the pooled fund.")
        return {"cash": cash, "offered_price": offered_price}

    # --- requests ------------------------------------------------------------------------------

    def request_plans(self, count: int, flagships: bool) -> list[dict]:
        iso3s = list(STATES)
        weights = {"LIC": 1.2, "LMIC": 1.2, "UMIC": 0.8, "HIC": 0.5}
        per_state = dict.fromkeys(iso3s, min(2, count // len(iso3s)))
        extra = count - sum(per_state.values())
        for iso3 in self.rng.choices(iso3s, [weights[self.states[i].income_group] for i in iso3s], k=extra):
            per_state[iso3] += 1
        by_key = {t.key: t for t in TEMPLATES}
        plans = []
        for iso3 in iso3s:
            templates = self.rng.sample(TEMPLATES, per_state[iso3])
            if flagships and iso3 in FLAGSHIP and per_state[iso3]:
                flagship = by_key[FLAGSHIP[iso3]]
                templates = [flagship] + [t for t in templates if t is not flagship][: per_state[iso3] - 1]
            for number, template in enumerate(templates):
                plans.append(self.request_plan(iso3, template, first=number == 0))
        return plans

    def request_plan(self, iso3: str, template: Template, first: bool) -> dict:
        rng = self.rng
        name, _, languages, crop = STATES[iso3]
        lang = languages[0] if first else rng.choice(languages)
        words = {"lang": lang, "country": name, "crop": crop}
        title = template.title.format(**words)
        size = float(_hours(min(110_000, max(400, template.scale * rng.lognormvariate(0, 0.6)))))
        minimum = 0.0
        if template.pretraining or rng.random() < 0.2:
            minimum = size * rng.uniform(0.35, 0.6) if template.pretraining else size * rng.uniform(0.2, 0.45)
            minimum = float(int(minimum / 100) * 100)
        params = rng.choice(template.params)
        pool = SMALL_MODEL_HARDWARE if params <= 3 else MID_MODEL_HARDWARE if params <= 13 else LARGE_MODEL_HARDWARE
        hardware = rng.sample(pool, rng.choice([2, 3, 3, 4]))
        if not {H100, H200, A100} & set(hardware) and rng.random() < 0.7:  # most teams can use the workhorses
            hardware[0] = H100 if params > 3 else A100
        region = self.states[iso3].region
        draw = rng.random()
        regions = [] if draw < 0.45 else [region] if draw < 0.8 else sorted(
            {region, *rng.sample([r for r in REGIONS if r != region], rng.choice([1, 2]))})
        return {
            "iso3": iso3, "hardware": hardware, "quality": 0.3 + 0.68 * rng.betavariate(1.8, 2.0),
            "fields": {
                "title": title[:1].upper() + title[1:], "abstract": template.abstract.format(**words),
                "sector": template.sector, "h100e_hours": Decimal(size), "min_h100e_hours": Decimal(minimum),
                "data_residency_regions": regions, "local_language": template.local_language,
                "open_weights": template.open_weights, "params_billion": Decimal(str(params)),
            },
        }

    def create_request(self, round_: Round, plan: dict):
        return services.request_create(
            user=self.officers[f"ministry-{plan['iso3'].lower()}"], round_=round_,
            acceptable_hardware=[self.hardware[key] for key in plan["hardware"]], **plan["fields"])

    def review(self, request, quality: float) -> None:
        secretariat = self.officers["secretariat"]
        services.request_set_eligibility(user=secretariat, request=request, eligible=True)
        reviewers = self.rng.sample(["reviewer1", "reviewer2", "reviewer3"], self.rng.choice([1, 2, 2, 3]))
        for username in sorted(reviewers):
            score = min(0.99, max(0.05, quality + self.rng.gauss(0, 0.06)))
            comment = next(text for floor, text in REVIEW_COMMENTS if score >= floor)
            services.review_submit(user=self.officers[username], request=request,
                                   score=Decimal(str(round(score, 2))), comments=comment)

    def budgets(self, round_: Round, plans: list[dict]) -> int:
        """Co-financing commitments for a third of the states, a few of them tight enough to bind."""
        demand_by_state: dict[str, float] = {}
        for plan in plans:
            demand_by_state[plan["iso3"]] = demand_by_state.get(plan["iso3"], 0) + float(plan["fields"]["h100e_hours"])
        paying = sorted(i for i in demand_by_state if self.states[i].cofinancing_phase in ("self", "accelerated"))
        starting = sorted(i for i in demand_by_state if self.states[i].cofinancing_phase in ("initial", "preparatory"))
        chosen = sorted(self.rng.sample(paying, 7) + self.rng.sample(starting, 3))
        for iso3 in chosen:
            share = _cofinancing_share(self.states[iso3], round_.policy)
            owed_if_half_met = 0.5 * demand_by_state[iso3] * 2.7 * share  # ~US$2.7 of value per h100e-hour
            budget = _money(owed_if_half_met * self.rng.uniform(0.3, 1.5), step=500)
            services.country_budget_set(round_=round_, member_state=self.states[iso3], budget_usd=budget)
        return len(chosen)

    # --- rounds ----------------------------------------------------------------------------------

    def round_one(self, call: Call) -> None:
        round_ = services.round_create(call=call, number=1, title="Round 1",
                                       opens_at=self.now - datetime.timedelta(days=75),
                                       submission_deadline=self.now + datetime.timedelta(days=1))
        plans = self.request_plans(120, flagships=True)
        ineligible = set(self.rng.sample(range(1, len(plans)), 6))  # never Kenya's flagship
        demand = sum(float(p["fields"]["h100e_hours"]) for i, p in enumerate(plans) if i not in ineligible)
        money = self.capacity(round_, demand)
        requests = []
        for plan in plans:
            request = self.create_request(round_, plan)
            services.request_submit(user=self.officers[f"ministry-{plan['iso3'].lower()}"], request=request)
            requests.append(request)
        budgets = self.budgets(round_, [p for i, p in enumerate(plans) if i not in ineligible])
        notes = iter(INELIGIBLE_NOTES)
        for index, (plan, request) in enumerate(zip(plans, requests, strict=True)):
            if index in ineligible:
                services.request_set_eligibility(user=self.officers["secretariat"], request=request, eligible=False,
                                                 note=next(notes))
            else:
                self.review(request, plan["quality"])
        # The deadline passed before the secretariat closed the round (no service edits a deadline).
        round_.refresh_from_db()
        round_.submission_deadline = self.now - datetime.timedelta(minutes=1)
        round_.full_clean()
        round_.save(update_fields=["submission_deadline"])
        services.round_close(round_=round_, user=self.officers["secretariat"])
        self.summary.round_ids["round1"] = round_.pk
        self.figures_of_round(round_, "Round 1 (closed, ready to solve)", demand, money["cash"], budgets)

    def round_two(self, call: Call) -> None:
        round_ = services.round_create(call=call, number=2, title="Round 2",
                                       opens_at=self.now - datetime.timedelta(days=5),
                                       submission_deadline=self.now + datetime.timedelta(days=60))
        start = self.today + datetime.timedelta(days=150)
        for key, hw, region, h100e_hours in [("jpn", H100, "EAP", 30_000), ("can", L40S, "NAM", 15_000),
                                             ("nor", B200, "SSA", 25_000)]:
            services.pledge_create(user=self.officers[f"donor-{key}"], round_=round_, kind=Pledge.Kind.IN_KIND,
                                   lots=[self.lot(hw, region, h100e_hours, start)],
                                   note="Demo pledge: illustrative, not a real commitment.")
        services.pledge_create(user=self.officers["donor-gbr"], round_=round_, kind=Pledge.Kind.CASH,
                               cash_usd=Decimal("100000"), note="Demo cash pledge to the pooled fund.")
        services.offer_create(user=self.officers["provider-nrc"], round_=round_,
                              lots=[self.lot(A100, "ECA", 12_000, start, price=1.05)],
                              note="Demo offer: capacity for sale at about its market value.")
        by_key = {t.key: t for t in TEMPLATES}
        drafts = [("KEN", "maternal", True), ("KEN", "reading", False), ("NGA", "legalaid", False),
                  ("NPL", "flood", True), ("HTI", "speech", False), ("UZB", "citizen", True), ("SLE", "crop", True)]
        for iso3, key, submit in drafts:
            request = self.create_request(round_, self.request_plan(iso3, by_key[key], first=True))
            if submit:
                services.request_submit(user=self.officers[f"ministry-{iso3.lower()}"], request=request)
        self.summary.round_ids["round2"] = round_.pk
        self.figures_of_round(round_, "Round 2 (open)", None, None, None)

    def figures_of_round(self, round_: Round, label: str, demand, cash, budgets) -> None:
        from allocation.scenario import lots_of_round

        lots = list(lots_of_round(round_))
        hardware = {h.id: h for h in self.hardware.values()}
        donated = sum(lot.gpu_hours * hardware[lot.hardware_id].h100e for lot in lots if lot.pledge_id)
        offered = sum(lot.gpu_hours * hardware[lot.hardware_id].h100e for lot in lots if lot.offer_id)
        requests = round_.requests.all()
        counts = {status: requests.filter(status=status).count() for status in RequestStatus.values}
        rows = [
            ("lots (donated + offered)", f"{sum(1 for lot in lots if lot.pledge_id)} + "
                                         f"{sum(1 for lot in lots if lot.offer_id)}"),
            ("pledged h100e-hours (in kind)", f"{donated:,.0f}"),
            ("offered h100e-hours (for sale)", f"{offered:,.0f}"),
            ("cash pledged US$", f"{cash if cash is not None else _cash(round_):,.0f}"),
            ("requests", ", ".join(f"{n} {s}" for s, n in counts.items() if n) + f" ({requests.count()} in all)"),
        ]
        if demand is not None:
            rows += [("demand h100e-hours (eligible)", f"{demand:,.0f}"),
                     ("donated / demand", f"{float(donated) / demand:.0%}"),
                     ("(donated + offered) / demand", f"{float(donated + offered) / demand:.0%}"),
                     ("states with a co-financing budget", str(budgets))]
        self.summary.figures[label] = rows


def _cash(round_: Round) -> Decimal:
    return sum((p.cash_usd for p in round_.pledges.filter(kind=Pledge.Kind.CASH)), Decimal("0"))


def _cofinancing_share(state: MemberState, policy: dict) -> float:
    """The contract's co-financing share of a state (allocation-v1.md), to size demo budgets only."""
    cf = policy["cofinancing"]
    if state.cofinancing_phase == "initial":
        return cf["initial_share"]
    if state.cofinancing_phase == "preparatory":
        return min(cf["preparatory_cap"], cf["initial_share"] * (1 + cf["preparatory_growth"]) ** state.years_in_phase)
    if state.cofinancing_phase == "accelerated":
        start = cf["accelerated_start_share"]
        return min(1.0, start + (1 - start) * state.years_in_phase / cf["accelerated_years"])
    return 1.0


@transaction.atomic
def demo_load() -> DemoSummary:
    """Build the demo alliance (see the module's docstring); refuses when it is already loaded."""
    if demo_exists():
        raise DemoAlreadyLoaded(
            f"The demo alliance is already loaded (the call {CALL_TITLE!r} exists); nothing was changed. "
            "To rebuild it, empty the database first: `manage.py flush`, then `manage.py load_demo`."
        )
    builder = _Builder()
    builder.reference_data()
    builder.cast()
    call = services.call_create(
        title=CALL_TITLE,
        description="Compute for public-interest AI of member states: health, education, justice, agriculture, "
                    "climate and local-language models. Demo data: the pledges, requests and providers are invented.",
    )
    builder.round_one(call)
    builder.round_two(call)
    summary = builder.summary
    summary.figures = {"Alliance": [
        ("member states loaded", str(MemberState.objects.count())),
        ("hardware types loaded", str(HardwareType.objects.count())),
        ("requesting states (one ministry each)", str(len(STATES))),
        ("donors", str(len(DONORS))),
        ("providers", str(len(PROVIDERS))),
        ("demo users", str(len(summary.credentials))),
    ], **summary.figures}
    return summary


def summary_text(summary: DemoSummary) -> str:
    """The credentials and figures as a plain-text table for the terminal."""
    width = max(len(username) for username, _, _ in summary.credentials)
    role_width = max(len(str(role)) for _, role, _ in summary.credentials)
    lines = [f"Demo users (password for all: {DEMO_PASSWORD})", ""]
    lines.append(f"  {'username':<{width}}  {'role':<{role_width}}  organisation")
    lines.append(f"  {'-' * width}  {'-' * role_width}  {'-' * 12}")
    lines += [f"  {u:<{width}}  {str(r):<{role_width}}  {o}" for u, r, o in summary.credentials]
    label_width = max(len(label) for rows in summary.figures.values() for label, _ in rows)
    for section, rows in summary.figures.items():
        lines += ["", section]
        lines += [f"  {label:<{label_width}}  {value}" for label, value in rows]
    lines += ["", f"Round 1 is closed and ready to solve: `manage.py solve_round {summary.round_ids['round1']}` "
                  "(or `solve_round demo`)."]
    return "\n".join(lines)
