"""Static vocabulary of the generated inventory: device kinds, subscription kinds, sites, names, tags.

Kept apart from the generator so the tables read as tables. Values come from greenlake-api.md (enums, part
numbers and tiers in the style of the spec examples); a few are deliberately outside the documented enums,
because real workspaces return such values and a client must store them, not reject them.
"""

from __future__ import annotations

from typing import NamedTuple


class DeviceKind(NamedTuple):
    device_type: str
    weight: int  # relative frequency; 0 = placed by index only (rare kinds)
    category: str | None
    subscription_type: str | None  # the subscription type this kind consumes
    make: str
    models: tuple[str, ...]
    parts: tuple[str, ...]
    serial_prefix: str  # prefixes of the same length must differ: serial suffixes have a fixed width
    label: str  # used in generated device names


class SubscriptionKind(NamedTuple):
    subscription_type: str
    weight: int
    product_type: str
    tiers: tuple[tuple[str, str, str], ...]  # (tier, tierDescription, sku)


ARUBA = "HPE Aruba Networking"

# fmt: off
DEVICE_KINDS = (
    DeviceKind("IAP", 34, "NETWORK", "CENTRAL_AP", ARUBA, ("AP-515", "AP-535", "AP-635", "IAP-225-US"),
               ("R4W02A", "JZ336A", "R7J28A", "JW212A"), "CN", "AP"),
    DeviceKind("AP", 5, "NETWORK", "CENTRAL_AP", ARUBA, ("AP-303", "AP-345"), ("JZ320A", "JZ033A"),
               "TW", "AP"),
    DeviceKind("SWITCH", 20, "NETWORK", "CENTRAL_SWITCH", ARUBA, ("6300M", "6200F", "CX 8360"),
               ("JL658A", "JL724A", "JL700A"), "SG", "SW"),
    DeviceKind("GATEWAY", 7, "NETWORK", "CENTRAL_GW", ARUBA, ("9004", "7010", "EC-V"),
               ("R1B21A", "JW679A", "R3V58A"), "CG", "GW"),
    DeviceKind("COMPUTE", 15, "COMPUTE", "CENTRAL_COMPUTE", "HPE",
               ("ProLiant DL380 Gen11", "ProLiant DL360 Gen10 Plus", "Synergy 480 Gen10"),
               ("P52534-B21", "P28948-B21", "871940-B21"), "MXQ", "srv"),
    DeviceKind("STORAGE", 6, "STORAGE", "CENTRAL_STORAGE", "HPE",
               ("Alletra 6010", "Alletra 9060", "Nimble HF20"), ("Q8H72A", "R7A17A", "Q8B80A"),
               "SGH", "stor"),
    DeviceKind("SENSOR", 4, "NETWORK", "UXI_SENSOR_CLOUD", ARUBA, ("UXI U6000", "UXI U6200"),
               ("Q9A27A", "R2Q51A"), "UX", "UXI"),
)
# Rare and undocumented device types: every 50th device (from index 7) cycles through these.
RARE_DEVICE_KINDS = (
    DeviceKind("CONTROLLER", 0, "NETWORK", "CENTRAL_CONTROLLER", ARUBA, ("7210",), ("JW743A",), "CC", "MC"),
    DeviceKind("DHCI_STORAGE", 0, "STORAGE", "CENTRAL_STORAGE", "HPE", ("dHCI Nimble",), ("Q8H41A",),
               "DH", "dhci"),
    DeviceKind("UNKNOWN", 0, None, None, "HPE", ("Unknown",), ("000000-000",), "UN", "dev"),
    # not in the documented enum at all:
    DeviceKind("WIFI7_AP", 0, None, "CENTRAL_AP", ARUBA, ("AP-735",), ("S1T33A",), "CW", "AP"),
    DeviceKind("SMART_PDU", 0, None, None, "HPE", ("G2 Metered PDU",), ("P9Q41A",), "PD", "pdu"),
)

SUBSCRIPTION_KINDS = (
    SubscriptionKind("CENTRAL_AP", 25, "DEVICE", (("FOUNDATION_AP", "Foundation AP", "R3K04AAE"),
                                                  ("ADVANCED_AP", "Advanced AP", "R3K05AAE"))),
    SubscriptionKind("CENTRAL_SWITCH", 18, "DEVICE", (
        ("FOUNDATION_SWITCH_6300", "Foundation Switch 6300", "R3K09AAE"),
        ("ADVANCED_SWITCH_6300", "Advanced Switch 6300", "R3K10AAE"))),
    SubscriptionKind("CENTRAL_GW", 8, "DEVICE", (("FOUNDATION_70XX", "Foundation 70xx Gateway", "R3K20AAE"),
                                                 ("ADVANCE_72XX", "Advanced 72xx Gateway", "R3K23AAE"))),
    SubscriptionKind("CENTRAL_COMPUTE", 15, "DEVICE", (
        ("FOUNDATION_PROLIANT", "Foundation ProLiant", "R7A09AAE"),
        ("ENHANCED_PROLIANT", "Enhanced ProLiant", "R7A10AAE"))),
    SubscriptionKind("CENTRAL_STORAGE", 8, "DEVICE", (
        ("SMALL_VM_BACKUP", "Small VM Backup", "S0D50AAE"),
        ("FOUNDATION_STORAGE", "Foundation Storage", "S0D52AAE"))),
    SubscriptionKind("UXI_SENSOR_CLOUD", 4, "DEVICE", (
        ("FOUNDATION_SENSOR", "UXI Sensor Cloud", "R9B43AAE"),)),
    SubscriptionKind("CENTRAL_CONTROLLER", 3, "DEVICE", (
        ("FOUNDATION_CONTROLLER_7200", "Foundation 7200 Controller", "R3K30AAE"),)),
    SubscriptionKind("SUPPORT", 6, "SUPPORT", (("UNKNOWN", "Foundation Care 24x7", "H7J34A3"),)),
    SubscriptionKind("SERVICE", 5, "SERVICE", (("UNKNOWN", "GreenLake service", "S1A20AAE"),)),
    SubscriptionKind("PRIVATE_CLOUD_ENTERPRISE", 2, "ON_PREM", (
        ("UNKNOWN", "Private Cloud Enterprise", "S2B11AAE"),)),
    SubscriptionKind("OPSRAMP", 2, "SERVICE", (("UNKNOWN", "OpsRamp", "S3C30AAE"),)),
    SubscriptionKind("CENTRAL_NW_THIRD_PARTY", 2, "MANDATORY_ATTACHED", (
        ("UNKNOWN", "Third-party", "S4D40AAE"),)),
    SubscriptionKind("UNKNOWN", 1, "DEVICE", (("UNKNOWN", "Unknown", "S0000AAE"),)),
)
# The first subscriptions cover every device-consuming type, so even a tiny inventory links devices.
FORCED_SUBSCRIPTION_TYPES = ("CENTRAL_AP", "CENTRAL_SWITCH", "CENTRAL_GW", "CENTRAL_COMPUTE",
                             "CENTRAL_STORAGE", "UXI_SENSOR_CLOUD", "CENTRAL_CONTROLLER")

OUIS = ("20:4C:03", "D0:D3:E0", "EC:50:AA", "88:3A:30", "B8:83:03", "94:60:D5")
SERVICE_CATEGORIES = ("NETWORK", "COMPUTE", "STORAGE", None)  # one application (service manager) each
REGIONS = ("us-west", "us-east", "eu-central", "eu-west", "ap-northeast", "ap-southeast", "ca-central")
REGION_WEIGHTS = (30, 25, 20, 10, 7, 5, 3)
SITES = (  # city, state, country, latitude, longitude, postal code
    ("Zürich", "ZH", "CH", 47.3769, 8.5417, "8001"),
    ("東京", "Tokyo", "JP", 35.6762, 139.6503, "100-0005"),
    ("São Paulo", "SP", "BR", -23.5505, -46.6333, "01310-100"),
    ("Kraków", None, "PL", 50.0647, 19.945, "30-001"),
    ("London", None, "GB", 51.5072, -0.1276, "EC2V 7HH"),
    ("Houston", "TX", "US", 29.7604, -95.3698, "77002"),
    ("San Jose", "CA", "US", 37.3382, -121.8863, "95002"),
    ("München", "BY", "DE", 48.1351, 11.582, "80331"),
    ("Montréal", "QC", "CA", 45.5019, -73.5674, "H2Y 1C6"),
    ("Bengaluru", "KA", "IN", 12.9716, 77.5946, "560001"),
    ("Reykjavík", None, "IS", 64.1466, -21.9426, "101"),
    ("Sydney", "NSW", "AU", -33.8688, 151.2093, "2000"),
)
SECONDARY_NAMES = ("Lobby ceiling", "Rack 12 U3", "Büro 3. OG", "会議室 A", "Warehouse aisle 7",
                   "Salle serveur", "Edge closet", "Δ-lab")
TAG_KEYS = ("site", "env", "owner", "costCenter", "rack", "floor", "team", "project", "criticality",
            "building")
TAG_VALUES = ("hq", "prod", "dev", "lab", "netops", "finance", "R12", "3", "high", "low", "Regent Street",
              "Oxford Street", "Zürich", "blue", "42")
CONTACT_NAMES = (("Ana", "Müller"), ("Kenji", "Sato"), ("Zoë", "O'Brien"), ("Lee", "Park"))
SUPPORT_LEVELS = (("Foundation Care 24x7", "HW Support"), ("Proactive Care", "HW and SW Support"))
BILLING_ACCOUNTS = (("Acme Flex", "TIER_1"), ("Globex Flex", "TIER_2"), ("Initech Flex", "TIER_3"))
# fmt: on
