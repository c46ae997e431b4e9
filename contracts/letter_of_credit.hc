// Documentary credit under UCP 600 — one contract instance per credit.
//
// The issuing bank deploys the contract with the credit's terms; the applicant escrows the
// money (the credit is issued and irrevocable from then on); the advising bank advises it and a
// confirming bank may confirm it; carriers sign shipping events; the beneficiary presents
// documents as hashes plus the fields examination needs; the contract examines them at once
// and pays by itself — at sight, on the goods' arrival, or at maturity through a scheduled
// call — or lists every discrepancy in one notice. At expiry the rest of the escrow goes back
// to the applicant. States, transitions and the ABI: docs/CONTRACTS.md.

// ---- Roles (the ledger's participant roles) -------------------------------------------
const ROLE_VALIDATOR_BANK = 1;
const ROLE_BANK = 2;
const ROLE_EXPORTER = 3;
const ROLE_IMPORTER = 4;
const ROLE_CARRIER = 5;

const DAY = 86_400_000;                 // milliseconds
const MAX_DAYS = 3_650;                 // bound on every period in days
const MAX_AMOUNT = 100_000_000_000_000_000;  // 10^17 minor units: every product below stays within 64 bits
const MAX_WAITING = 8;                  // drawings that may wait for one bill of lading's arrival
const MAX_TIME = 100_000_000_000_000;   // ms since 1970 (about the year 5138): bounds every date

// ---- Credit states --------------------------------------------------------------------
const DRAFT = 0;        // terms set by the issuing bank; waiting for the applicant's escrow
const ISSUED = 1;       // escrow in place; the credit is irrevocable (Art. 3, 7(b))
const EXPIRED = 2;      // Art. 6(e): no more presentations; the rest went back to the applicant
const CANCELLED = 3;    // the draft was withdrawn before any escrow

// ---- Terms flags (the constructor's `flags`, a sum of these) ---------------------------
const ABOUT_AMOUNT = 1;          // "about" the amount: ±10 % (Art. 30(a))
const ABOUT_QUANTITY = 2;        // "about" the quantity: ±10 % (Art. 30(a))
const COUNTED_UNITS = 4;         // quantity counted in units: no ±5 % (Art. 30(b))
const PARTIAL_FORBIDDEN = 8;     // partial drawings/shipments forbidden (allowed unless forbidden: Art. 31(a))
const PAY_ON_ARRIVAL = 16;       // sight payment waits for the goods' recorded arrival
const DEFERRED = 32;             // available by deferred payment (Art. 7(a)(ii))
const CONFIRMATION = 64;         // the confirming bank is asked to add its confirmation (Art. 8)
const MATURITY_FROM_PRESENTATION = 128;  // deferred days count from presentation, not shipment
const NAMED_CARRIER = 256;       // the credit names the carrier of its bills of lading (Art. 20(a)(i))

// ---- Documents (the constructor's `required_docs`, a sum of these) ---------------------
const DOC_INVOICE = 1;           // INV commercial invoice
const DOC_TRANSPORT = 2;         // TRD bill of lading
const DOC_INSURANCE = 4;         // insurance certificate
const DOC_ORIGIN = 8;            // CEO certificate of origin
const DOC_INSPECTION = 16;       // PCE inspection certificate

// ---- Discrepancies (a presentation's list, a sum of these) -----------------------------
const D_LATE_PRESENTATION = 1;      // Art. 14(c): later than the period after shipment
const D_INVOICE_CURRENCY = 2;       // Art. 18(b): not the credit's currency
const D_AMOUNT = 4;                 // Art. 18(b), 30(a): more than the credit has available
const D_QUANTITY = 8;               // Art. 30(a), (b): outside the quantity tolerance
const D_PARTIAL = 16;               // Art. 31(a), 30(c): a partial drawing the credit forbids
const D_LATE_SHIPMENT = 32;         // Art. 20(a)(ii), 14(c): shipped after the latest date
const D_PORT_OF_LOADING = 64;       // Art. 20(a)(iii)
const D_PORT_OF_DISCHARGE = 128;    // Art. 20(a)(iii)
const D_TRANSPORT_UNVERIFIED = 256; // Art. 14(d), eUCP: no carrier-signed ACT LOAD agrees with it
const D_VESSEL = 512;               // Art. 20(a)(ii): vessel conflicts with the carrier's record
const D_INSURANCE_AMOUNT = 1024;    // Art. 28(f)(ii): less than 110 % of the invoice value
const D_INSURANCE_CURRENCY = 2048;  // Art. 28(f)(i)
const D_INSURANCE_DATE = 4096;      // Art. 28(e): dated after shipment
const D_MISSING_DOCUMENT = 8192;    // Art. 14(a), 15: a document the credit requires is missing
const D_TRANSPORT_REUSED = 16384;   // Art. 14(d): the bill of lading was drawn against before (or is, undecided)

// ---- Presentation states --------------------------------------------------------------
const P_NONE = 0;                // no presentation has this id (the zero value of the state map)
const P_DISCREPANT = 1;          // awaiting the applicant's waiver or the bank's refusal
const P_PAID = 2;                // honoured and paid
const P_REFUSED = 3;             // refused (Art. 16(c)); the reserved amount is released
const P_AWAITING_ARRIVAL = 4;    // complying; pays when the carrier records arrival
const P_DEFERRED = 5;            // complying; pays at maturity (Art. 7(a)(ii), 12(b))
const P_WITHDRAWN = 6;           // discrepant, withdrawn by the beneficiary; the reserved amount is released

// ---- Amendment states -----------------------------------------------------------------
const A_PENDING = 1;
const A_ACCEPTED = 2;
const A_REJECTED = 3;

// ---- Terms ----------------------------------------------------------------------------
storage state: int;
storage issuing_bank: address;
storage applicant: address;
storage beneficiary: address;
storage advising_bank: address;
storage confirming_bank: address;
storage carrier: address;        // with NAMED_CARRIER: the only carrier whose events count
storage currency: bytes;
storage amount: int;             // minor units
storage quantity: int;           // units of the goods
storage expiry: int;             // ms; the last moment for presentation (Art. 6(d)(i))
storage latest_shipment: int;    // ms
storage presentation_days: int;  // Art. 14(c): 21 unless the credit says otherwise
storage deferred_days: int;
storage port_of_loading: bytes;
storage port_of_discharge: bytes;
storage required_docs: int;
storage flags: int;

// ---- Progress -------------------------------------------------------------------------
storage advised: bool;
storage confirmed: bool;
storage escrowed: int;           // the most the credit can pay (amount, +10 % when "about")
storage paid: int;
storage reserved: int;           // held for presentations that are not yet paid or refused
storage shipped_quantity: int;   // over honoured presentations
storage honoured_count: int;
storage presentation_count: int;
storage amendment_count: int;
storage pending_amendment: int;  // 0 or the id of the amendment awaiting consent

map p_state: int => int;
map p_amount: int => int;
map p_discrepancies: int => int;
map p_transport: int => bytes;
map p_quantity: int => int;
map p_time: int => int;          // when it was presented
map p_maturity: int => int;      // when a deferred presentation pays
map p_deadline: int => int;      // when an undecided discrepant presentation is refused
map p_next_waiting: int => int;  // the next presentation (id + 1) waiting for the same B/L

map a_state: int => int;
map a_amount: int => int;
map a_expiry: int => int;
map a_latest_shipment: int => int;
map a_funded: int => bool;
map a_confirmer_agreed: int => bool;
map a_needs_applicant: int => bool;   // it lengthens the applicant's exposure
map a_applicant_agreed: int => bool;

// Carrier-signed shipping record per bill of lading reference.
map bl_issuer: bytes => address;   // without NAMED_CARRIER: the B/L's carrier, registered by the beneficiary
map bl_carrier: bytes => address;
map bl_loaded_at: bytes => int;
map bl_loaded_port: bytes => bytes;
map bl_vessel: bytes => bytes;
map bl_departed_at: bytes => int;
map bl_arrived_at: bytes => int;
map bl_arrived_port: bytes => bytes;
map bl_used: bytes => bool;      // honoured in a drawing
map bl_undecided: bytes => int;  // discrepant presentations of it awaiting a decision
map bl_waiting_count: bytes => int;
map bl_waiting: bytes => int;    // the last presentation (id + 1) awaiting this B/L's arrival

event Drafted(issuing_bank: address, applicant: address, beneficiary: address, currency: bytes, amount: int, expiry: int);
event Issued(escrowed: int);
event DraftCancelled(by: address);
event Advised(bank: address);
event Confirmed(bank: address);
event AmendmentProposed(id: int, amount: int, expiry: int, latest_shipment: int);
event AmendmentAccepted(id: int);
event AmendmentRejected(id: int, reason: bytes);
event ApplicantAgreed(id: int);
event TransportRegistered(bl: bytes, carrier: address);
event ShippingEvent(bl: bytes, event_type: bytes, location: bytes, vessel: bytes, time: int);
event ShippingEventIgnored(bl: bytes, event_type: bytes, classifier: bytes);
event Presented(id: int, amount: int);
event Complying(id: int);
event Discrepant(id: int, discrepancies: int);
event Waived(id: int);
event Refused(id: int, discrepancies: int);
event Withdrawn(id: int);
event AwaitingArrival(id: int, bl: bytes);
event PaymentDeferred(id: int, maturity: int);
event Paid(id: int, to: address, amount: int);
event Expired(refund: int);
event Released(to: address, amount: int);

// ---- Helpers --------------------------------------------------------------------------

fn has(set: int, bit: int) -> bool {
    return (set / bit) % 2 == 1;
}

fn is_bank(a: address) -> bool {
    let r = role_of(a);
    return r == ROLE_BANK || r == ROLE_VALIDATOR_BANK;
}

fn percent(v: int, pct: int) -> int {
    return v * pct / 100;
}

// Day 0 (1970-01-01) was a Thursday: 0 = Sunday … 6 = Saturday.
fn weekday(t: int) -> int {
    return (t / DAY + 4) % 7;
}

// UCP 600 Art. 29(a): an expiry date or last day for presentation on which the bank is
// closed extends to the first following banking day. Machines here know weekends only.
fn next_banking_day(t: int) -> int {
    let w = weekday(t);
    if w == 6 { return t + 2 * DAY; }
    if w == 0 { return t + DAY; }
    return t;
}

// UCP 600 Art. 14(b): banking days after `t`, skipping weekends.
fn add_banking_days(t: int, n: int) -> int {
    let left = n;
    let day = t;
    while left > 0 {
        day = day + DAY;
        let w = weekday(day);
        if w != 6 && w != 0 { left = left - 1; }
    }
    return day;
}

fn effective_expiry() -> int {
    return next_banking_day(expiry);
}

// The most the credit can pay: Art. 30(a) allows 10 % more when the amount is "about".
fn ceiling(of: int) -> int {
    if has(flags, ABOUT_AMOUNT) { return of + percent(of, 10); }
    return of;
}

fn available() -> int {
    return escrowed - paid - reserved;
}

fn same_day(a: int, b: int) -> bool {
    return a / DAY == b / DAY;
}

fn only(who: address, role_name: bytes) {
    require(caller() == who, "only the " + role_name + " may do this");
}

// Only fund and fund_amendment take value; anything sent elsewhere would sit in the escrow
// unaccounted for.
fn no_value() {
    require(value() == 0, "this function takes no value");
}

fn value_in_credit_currency() {
    require(value() == 0 || value_currency() == currency, "send the credit's currency");
}

fn hash_ok(h: bytes) -> bool {
    return len(h) == 0 || len(h) == 32;
}

fn release(amount_: int) {
    // Money that is no longer held for a presentation: after expiry it goes back to the applicant.
    reserved = reserved - amount_;
    if state == EXPIRED && amount_ > 0 {
        pay(applicant, currency, amount_);
        emit Released(applicant, amount_);
    }
}

fn pay_presentation(id: int) {
    let amt = p_amount[id];
    pay(beneficiary, currency, amt);
    paid = paid + amt;
    p_state[id] = P_PAID;
    emit Paid(id, beneficiary, amt);
}

// Honour a complying (or waived) presentation: pay at sight, wait for arrival, or defer.
// UCP 600 Art. 7(a), 15(a).
fn honour(id: int, from_reserve: bool) {
    let amt = p_amount[id];
    let bl = p_transport[id];
    honoured_count = honoured_count + 1;
    shipped_quantity = shipped_quantity + p_quantity[id];
    bl_used[bl] = true;
    if has(flags, DEFERRED) {
        let start = bl_loaded_at[bl];
        if has(flags, MATURITY_FROM_PRESENTATION) || start == 0 { start = p_time[id]; }
        let maturity = start + deferred_days * DAY;
        if maturity <= now() { maturity = now() + 1; }
        if !from_reserve { reserved = reserved + amt; }
        p_state[id] = P_DEFERRED;
        p_maturity[id] = maturity;
        schedule mature(id) at maturity;
        emit PaymentDeferred(id, maturity);
        return;
    }
    if has(flags, PAY_ON_ARRIVAL) && !arrived(bl) {
        // Bounded, so that the arrival that pays them all fits in one transaction.
        require(bl_waiting_count[bl] < MAX_WAITING, "too many drawings already wait for this bill of lading");
        bl_waiting_count[bl] = bl_waiting_count[bl] + 1;
        if !from_reserve { reserved = reserved + amt; }
        p_state[id] = P_AWAITING_ARRIVAL;
        p_next_waiting[id] = bl_waiting[bl];
        bl_waiting[bl] = id + 1;
        emit AwaitingArrival(id, bl);
        return;
    }
    if from_reserve { reserved = reserved - amt; }
    pay_presentation(id);
}

fn arrived(bl: bytes) -> bool {
    return bl_arrived_at[bl] != 0 && bl_arrived_port[bl] == port_of_discharge;
}

// ---- Issuance (Art. 2, 7) ---------------------------------------------------------------

// Deployed by the issuing bank. `flags` and `required_docs` are sums of the constants above.
init(applicant_: address, beneficiary_: address, advising_bank_: address, confirming_bank_: address, carrier_: address,
     currency_: bytes, amount_: int, quantity_: int, expiry_: int, latest_shipment_: int,
     presentation_days_: int, deferred_days_: int, port_of_loading_: bytes, port_of_discharge_: bytes,
     required_docs_: int, flags_: int) {
    require(is_bank(caller()), "only a bank may issue a credit");
    require(role_of(applicant_) == ROLE_IMPORTER, "the applicant must be a registered importer");
    require(role_of(beneficiary_) == ROLE_EXPORTER, "the beneficiary must be a registered exporter");
    require(is_bank(advising_bank_), "the advising bank must be a registered bank");
    require(advising_bank_ != caller(), "the advising bank must not be the issuing bank");
    require(amount_ > 0, "the amount must be positive");
    require(amount_ <= MAX_AMOUNT, "the amount is above 10^17 minor units");
    require(quantity_ > 0 && quantity_ <= 1_000_000_000_000, "the quantity must be positive and at most 10^12");
    require(expiry_ > now() && expiry_ < MAX_TIME, "the expiry must be in the future (and before the year 5000)");
    require(latest_shipment_ <= expiry_, "the latest shipment date must not be after the expiry");
    require(presentation_days_ > 0 && presentation_days_ <= MAX_DAYS, "the presentation period must be 1 to 3650 days");
    require(deferred_days_ >= 0 && deferred_days_ <= MAX_DAYS, "the deferred period must be 0 to 3650 days");
    require(!has(flags_, DEFERRED) || deferred_days_ > 0, "a deferred payment credit needs deferred days");
    require(flags_ >= 0 && flags_ < 512, "unknown flags");
    require(required_docs_ > 0 && required_docs_ < 32, "required documents must be a sum of the DOC_ constants");
    require(has(required_docs_, DOC_INVOICE), "the invoice must be a required document");
    // Arrival and shipment dates come from the carrier's record of the bill of lading, so a
    // credit that depends on them must require one.
    require(has(required_docs_, DOC_TRANSPORT) || !(has(flags_, PAY_ON_ARRIVAL) || (has(flags_, DEFERRED) && !has(flags_, MATURITY_FROM_PRESENTATION))),
            "paying on arrival or at maturity after shipment needs the bill of lading among the required documents");
    balance(self(), currency_);   // traps unless currency_ is a well-formed currency code
    require(len(port_of_loading_) > 0 && len(port_of_discharge_) > 0, "both ports must be named");
    if has(flags_, CONFIRMATION) {
        require(is_bank(confirming_bank_), "the confirming bank must be a registered bank");
        require(confirming_bank_ != caller(), "the confirming bank must not be the issuing bank");
        confirming_bank = confirming_bank_;
    }
    if has(flags_, NAMED_CARRIER) {
        require(role_of(carrier_) == ROLE_CARRIER, "the carrier named in the credit must be a registered carrier");
        carrier = carrier_;
    }
    issuing_bank = caller();
    applicant = applicant_;
    beneficiary = beneficiary_;
    advising_bank = advising_bank_;
    currency = currency_;
    amount = amount_;
    quantity = quantity_;
    expiry = expiry_;
    latest_shipment = latest_shipment_;
    presentation_days = presentation_days_;
    deferred_days = deferred_days_;
    port_of_loading = port_of_loading_;
    port_of_discharge = port_of_discharge_;
    required_docs = required_docs_;
    flags = flags_;
    state = DRAFT;
    emit Drafted(caller(), applicant_, beneficiary_, currency_, amount_, expiry_);
}

// The applicant escrows the credit's ceiling with this call's value; the credit is issued.
pub fn fund() {
    value_in_credit_currency();
    only(applicant, "applicant");
    require(state == DRAFT, "the credit is not a draft awaiting funds");
    require(now() < effective_expiry(), "the credit's expiry has passed");
    let need = ceiling(amount);
    let have = balance(self(), currency);
    require(have >= need, "the escrow must cover the credit's maximum amount; send it as the call's value");
    if have > need { pay(applicant, currency, have - need); }
    escrowed = need;
    state = ISSUED;
    schedule expire() at effective_expiry();
    emit Issued(need);
}

// Before funding, the issuing bank or the applicant may withdraw the draft.
pub fn cancel_draft() {
    no_value();
    require(caller() == issuing_bank || caller() == applicant, "only the issuing bank or the applicant may cancel the draft");
    require(state == DRAFT, "only a draft can be cancelled; an issued credit is irrevocable (Art. 3)");
    state = CANCELLED;
    let have = balance(self(), currency);
    if have > 0 { pay(applicant, currency, have); }
    emit DraftCancelled(caller());
}

// Art. 9(a): the advising bank authenticates the credit and advises it to the beneficiary.
pub fn advise() {
    no_value();
    only(advising_bank, "advising bank");
    require(state == ISSUED, "only an issued credit can be advised");
    require(!advised, "the credit is already advised");
    advised = true;
    emit Advised(caller());
}

// Art. 8: the confirming bank adds its own undertaking.
pub fn confirm() {
    no_value();
    require(has(flags, CONFIRMATION), "this credit does not ask for confirmation");
    only(confirming_bank, "confirming bank");
    require(state == ISSUED, "only an issued credit can be confirmed");
    require(!confirmed, "the credit is already confirmed");
    confirmed = true;
    emit Confirmed(caller());
}

// ---- Amendments (Art. 10) ---------------------------------------------------------------

// The issuing bank issues an amendment (Art. 10(b): it is bound from now on). An increase in
// amount takes effect only once the applicant has escrowed the difference; anything that
// lengthens the applicant's exposure (Art. 2: the credit is issued on its request), only with
// the applicant's agreement.
pub fn propose_amendment(new_amount: int, new_expiry: int, new_latest_shipment: int) -> int {
    no_value();
    only(issuing_bank, "issuing bank");
    require(state == ISSUED, "only an issued credit can be amended");
    require(pending_amendment == 0, "another amendment is awaiting consent");
    require(new_amount > 0 && new_amount <= MAX_AMOUNT, "the amount must be positive and at most 10^17 minor units");
    require(ceiling(new_amount) >= paid + reserved, "the amount cannot go below what is paid or held");
    require(new_expiry > now() && new_expiry < MAX_TIME, "the new expiry must be in the future (and before the year 5000)");
    require(new_latest_shipment <= new_expiry, "the latest shipment date must not be after the expiry");
    require(new_amount != amount || new_expiry != expiry || new_latest_shipment != latest_shipment, "the amendment changes nothing");
    let id = amendment_count + 1;
    amendment_count = id;
    a_state[id] = A_PENDING;
    a_amount[id] = new_amount;
    a_expiry[id] = new_expiry;
    a_latest_shipment[id] = new_latest_shipment;
    a_funded[id] = ceiling(new_amount) <= escrowed;
    a_needs_applicant[id] = new_amount > amount || new_expiry > expiry || new_latest_shipment > latest_shipment;
    pending_amendment = id;
    emit AmendmentProposed(id, new_amount, new_expiry, new_latest_shipment);
    return id;
}

// The applicant escrows an amendment's increase with this call's value.
pub fn fund_amendment(id: int) {
    value_in_credit_currency();
    only(applicant, "applicant");
    // Pending, or accepted by the beneficiary and waiting for these funds.
    require(id != 0 && pending_amendment == id, "no such pending amendment");
    require(!a_funded[id], "the amendment needs no more funds");
    let extra = ceiling(a_amount[id]) - escrowed;
    require(balance(self(), currency) - (escrowed - paid) >= extra, "send the increase as the call's value");
    a_funded[id] = true;
    // Escrowing for this amendment is the applicant's agreement to it, as a whole.
    applicant_agrees(id);
    try_apply(id);
}

// The applicant agrees to (or refuses) an amendment that lengthens its exposure: a later
// expiry or latest shipment date, or a higher amount. Its money stays in the escrow until the
// expiry, so the issuing bank and the beneficiary cannot extend that alone.
pub fn approve_amendment(id: int, agree: bool) {
    no_value();
    only(applicant, "applicant");
    require(id != 0 && pending_amendment == id, "no such pending amendment");
    require(a_needs_applicant[id], "this amendment does not lengthen the applicant's exposure; its agreement is not needed");
    if !agree {
        reject_amendment(id, "the applicant did not agree");
        return;
    }
    require(!a_applicant_agreed[id], "the applicant has already agreed to this amendment");
    applicant_agrees(id);
    try_apply(id);
}

fn applicant_agrees(id: int) {
    if a_applicant_agreed[id] { return; }
    a_applicant_agreed[id] = true;
    emit ApplicantAgreed(id);
}

// Art. 10(a): a confirming bank must agree to the amendment of a confirmed credit.
pub fn consent_amendment(id: int, agree: bool) {
    no_value();
    only(confirming_bank, "confirming bank");
    require(id != 0 && pending_amendment == id, "no such pending amendment");
    if !agree {
        reject_amendment(id, "the confirming bank did not agree");
        return;
    }
    a_confirmer_agreed[id] = true;
    try_apply(id);
}

// Art. 10(c), (e): the beneficiary accepts or rejects the amendment as a whole. It answers
// for each changed term; accepting only some of them is a rejection.
pub fn respond_amendment(id: int, accept_amount: bool, accept_expiry: bool, accept_shipment: bool) {
    no_value();
    only(beneficiary, "beneficiary");
    require(a_state[id] == A_PENDING, "no such pending amendment");
    let whole = (a_amount[id] == amount || accept_amount)
        && (a_expiry[id] == expiry || accept_expiry)
        && (a_latest_shipment[id] == latest_shipment || accept_shipment);
    if !whole {
        reject_amendment(id, "partial acceptance is rejection (Art. 10(e))");
        return;
    }
    a_state[id] = A_ACCEPTED;
    try_apply(id);
}

fn reject_amendment(id: int, reason: bytes) {
    a_state[id] = A_REJECTED;
    pending_amendment = 0;
    // An increase the applicant escrowed goes back (everything above the current escrow's need).
    let spare = balance(self(), currency) - (escrowed - paid);
    if spare > 0 && state == ISSUED { pay(applicant, currency, spare); }
    emit AmendmentRejected(id, reason);
}

// Art. 10(b): until the beneficiary accepts, the original terms stand for it.
fn try_apply(id: int) {
    // Art. 10(a): the confirming bank's agreement counts if the credit is confirmed when the
    // amendment would take effect (it may have confirmed after the proposal).
    if a_state[id] != A_ACCEPTED || !a_funded[id] || (confirmed && !a_confirmer_agreed[id]) { return; }
    // A longer or larger exposure of the applicant's escrow needs the applicant's agreement.
    if a_needs_applicant[id] && !a_applicant_agreed[id] { return; }
    // Presentations made since the proposal may hold more than a decreased amount allows.
    if ceiling(a_amount[id]) < paid + reserved {
        reject_amendment(id, "the amount is below what is paid or held");
        return;
    }
    let old_expiry = expiry;
    amount = a_amount[id];
    expiry = a_expiry[id];
    latest_shipment = a_latest_shipment[id];
    let need = ceiling(amount);
    let spare = balance(self(), currency) - (need - paid);
    escrowed = need;
    if spare > 0 { pay(applicant, currency, spare); }
    pending_amendment = 0;
    if expiry != old_expiry {
        let when = effective_expiry();
        if when <= now() { when = now() + 1; }
        schedule expire() at when;
    }
    emit AmendmentAccepted(id);
}

// ---- Shipping events (DCSA Track & Trace, signed by the carrier) ----------------------------

// UCP 600 Art. 20(a)(i): a bill of lading names its carrier and is signed by it (or its
// master or agent); only that carrier's events are the B/L's record. It is the carrier named
// in the credit, or else the one the beneficiary registered for the B/L; it never changes.
fn carrier_of(bl: bytes) -> address {
    if has(flags, NAMED_CARRIER) { return carrier; }
    return bl_issuer[bl];
}

// A credit that names no carrier: the beneficiary registers the carrier its bill of lading
// names, once, before that carrier's events.
pub fn register_transport(bl: bytes, carrier_: address) {
    no_value();
    only(beneficiary, "beneficiary");
    require(!has(flags, NAMED_CARRIER), "the credit names the carrier of its bills of lading");
    require(state == ISSUED, "the credit is not available (not issued, or expired: Art. 6(e))");
    require(len(bl) > 0 && len(bl) <= 64, "the bill of lading reference must be 1 to 64 bytes");
    require(role_of(carrier_) == ROLE_CARRIER, "the carrier must be a registered carrier");
    require(len(bl_issuer[bl]) == 0, "this bill of lading's carrier is already registered; it cannot be substituted");
    bl_issuer[bl] = carrier_;
    emit TransportRegistered(bl, carrier_);
}

// `event_type` is LOAD, DEPA or ARRI; only classifier ACT (actual) events count.
pub fn shipping_event(bl: bytes, event_type: bytes, classifier: bytes, location: bytes, vessel: bytes, event_time: int) {
    no_value();
    require(caller_role() == ROLE_CARRIER, "only a carrier may sign shipping events");
    require(len(bl) > 0 && len(bl) <= 64, "the bill of lading reference must be 1 to 64 bytes");
    require(len(location) > 0 && len(location) <= 64 && len(vessel) <= 64, "location (1-64 bytes) and vessel (0-64 bytes)");
    require(event_time <= now(), "an actual event cannot be in the future");
    require(event_time >= 0, "dates are milliseconds since 1970");
    require(event_type == "LOAD" || event_type == "DEPA" || event_type == "ARRI", "the event type must be LOAD, DEPA or ARRI");
    let issuer = carrier_of(bl);
    require(len(issuer) > 0, "the credit names no carrier and the beneficiary has not registered this bill of lading's carrier");
    require(caller() == issuer, "only the carrier of this bill of lading may report it (Art. 20(a)(i))");
    if classifier != "ACT" {
        require(classifier == "PLN" || classifier == "EST" || classifier == "REQ", "the classifier must be ACT, PLN, EST or REQ");
        emit ShippingEventIgnored(bl, event_type, classifier);
        return;
    }
    if event_type == "LOAD" {
        require(len(bl_carrier[bl]) == 0, "this bill of lading already has a LOAD event");
        require(len(vessel) > 0, "a LOAD event names the vessel");
        bl_carrier[bl] = caller();
        bl_loaded_at[bl] = event_time;
        bl_loaded_port[bl] = location;
        bl_vessel[bl] = vessel;
    } else {
        require(len(bl_carrier[bl]) > 0, "this bill of lading has no LOAD event yet");
        require(event_time >= bl_loaded_at[bl], "the event is earlier than the loading");
        if event_type == "DEPA" {
            bl_departed_at[bl] = event_time;
        } else {
            // An arrival at another port (a port call on the way) is recorded but does not
            // count; a later one at the port of discharge replaces it.
            require(!arrived(bl), "arrival is already recorded");
            bl_arrived_at[bl] = event_time;
            bl_arrived_port[bl] = location;
        }
    }
    emit ShippingEvent(bl, event_type, location, vessel, event_time);
    // The goods arrived: every complying presentation waiting for them is paid now (more than
    // one when a waived drawing reuses the B/L).
    if event_type == "ARRI" && arrived(bl) {
        let waiting = bl_waiting[bl];
        delete bl_waiting[bl];
        delete bl_waiting_count[bl];
        while waiting != 0 {
            let id = waiting - 1;
            waiting = p_next_waiting[id];
            delete p_next_waiting[id];
            if p_state[id] == P_AWAITING_ARRIVAL {
                reserved = reserved - p_amount[id];
                pay_presentation(id);
            }
        }
    }
}

// ---- Presentation and examination (Art. 14, 15, 16, 18, 20, 28, 29, 30, 31) -------------------

// The beneficiary presents documents: each as the SHA-256 of its file (empty when not
// presented) plus the fields examination needs. Returns the presentation id.
pub fn present(invoice_hash: bytes, invoice_amount: int, invoice_currency: bytes, goods_quantity: int,
               bl: bytes, bl_hash: bytes, shipped_on_board: int, loading_port: bytes, discharge_port: bytes,
               vessel: bytes, insurance_hash: bytes, insured_amount: int, insurance_currency: bytes,
               insurance_date: int, origin_hash: bytes, inspection_hash: bytes) -> int {
    no_value();
    only(beneficiary, "beneficiary");
    require(state == ISSUED, "the credit is not available (not issued, or expired: Art. 6(e))");
    require(advised, "the credit has not been advised to the beneficiary (Art. 9)");
    // Art. 6(d)(i), 29(a): no presentation after the expiry date.
    require(now() <= effective_expiry(), "presentation after the expiry date (Art. 6(d)(i))");
    require(hash_ok(invoice_hash) && hash_ok(bl_hash) && hash_ok(insurance_hash) && hash_ok(origin_hash) && hash_ok(inspection_hash),
            "a document hash must be 32 bytes (or empty when not presented)");
    require(invoice_amount > 0 && goods_quantity >= 0 && insured_amount >= 0, "amounts and quantities cannot be negative");
    require(invoice_amount <= MAX_AMOUNT && goods_quantity <= 1_000_000_000_000 && insured_amount <= MAX_AMOUNT,
            "an amount or quantity is too large");
    require(shipped_on_board >= 0 && shipped_on_board < MAX_TIME && insurance_date >= 0 && insurance_date < MAX_TIME,
            "dates are milliseconds since 1970");
    require(available() > 0, "nothing is left to draw on this credit");

    let id = presentation_count + 1;
    presentation_count = id;
    let d = 0;
    let docs = required_docs;

    // Art. 14(a), 15: every required document must be presented. Art. 14(g): others are disregarded.
    if has(docs, DOC_INVOICE) && len(invoice_hash) == 0 { d = d + D_MISSING_DOCUMENT; }
    else if has(docs, DOC_TRANSPORT) && len(bl_hash) == 0 { d = d + D_MISSING_DOCUMENT; }
    else if has(docs, DOC_INSURANCE) && len(insurance_hash) == 0 { d = d + D_MISSING_DOCUMENT; }
    else if has(docs, DOC_ORIGIN) && len(origin_hash) == 0 { d = d + D_MISSING_DOCUMENT; }
    else if has(docs, DOC_INSPECTION) && len(inspection_hash) == 0 { d = d + D_MISSING_DOCUMENT; }

    // Art. 18(b): the invoice is in the credit's currency and within the amount available.
    if invoice_currency != currency { d = d + D_INVOICE_CURRENCY; }
    if invoice_amount > available() { d = d + D_AMOUNT; }

    // Art. 30(a), (b): quantity tolerance; Art. 31(a), 30(c): partial drawings.
    d = d + quantity_discrepancy(goods_quantity);
    if has(flags, PARTIAL_FORBIDDEN) {
        // Art. 30(c): without partial shipments, the amount may be up to 5 % less when the
        // quantity is shipped in full ("about" credits: 10 %).
        let floor = amount - percent(amount, 5);
        if has(flags, ABOUT_AMOUNT) { floor = amount - percent(amount, 10); }
        if honoured_count > 0 || invoice_amount < floor { d = d + D_PARTIAL; }
    }

    // Art. 20: the bill of lading, checked against the carrier-signed record (eUCP: a record
    // that cannot be authenticated is not a complying document).
    if has(docs, DOC_TRANSPORT) {
        // Dates count by the (UTC) day: shipment on the latest shipment date is in time.
        if shipped_on_board / DAY > latest_shipment / DAY { d = d + D_LATE_SHIPMENT; }
        // Art. 14(c), 29(a): presented by the last day of the period after the date of
        // shipment (whatever the hour), never after expiry.
        if now() / DAY > next_banking_day(shipped_on_board + presentation_days * DAY) / DAY { d = d + D_LATE_PRESENTATION; }
        if loading_port != port_of_loading { d = d + D_PORT_OF_LOADING; }
        if discharge_port != port_of_discharge { d = d + D_PORT_OF_DISCHARGE; }
        let loaded = bl_loaded_at[bl];
        if loaded == 0 || !same_day(loaded, shipped_on_board) || bl_loaded_port[bl] != loading_port {
            d = d + D_TRANSPORT_UNVERIFIED;
        } else if bl_vessel[bl] != vessel {
            d = d + D_VESSEL;
        }
        // A B/L honoured before, or held by a presentation not yet decided, is drawn against.
        if bl_used[bl] || bl_undecided[bl] > 0 { d = d + D_TRANSPORT_REUSED; }
    }

    // Art. 28: insurance of at least 110 % of the invoice (CIF) value, same currency, dated
    // no later than shipment.
    if has(docs, DOC_INSURANCE) {
        if insured_amount * 10 < invoice_amount * 11 { d = d + D_INSURANCE_AMOUNT; }
        if insurance_currency != currency { d = d + D_INSURANCE_CURRENCY; }
        if insurance_date / DAY > shipped_on_board / DAY { d = d + D_INSURANCE_DATE; }
    }

    // What this presentation may draw: the invoice, capped by what is available.
    let drawing = invoice_amount;
    if drawing > available() { drawing = available(); }
    p_amount[id] = drawing;
    p_quantity[id] = goods_quantity;
    p_time[id] = now();
    p_transport[id] = bl;
    p_discrepancies[id] = d;
    emit Presented(id, drawing);

    if d == 0 {
        // Art. 15(a): a complying presentation must be honoured.
        emit Complying(id);
        honour(id, false);
    } else {
        // Art. 16(c): one notice listing every discrepancy, given at once — the bank refuses
        // and holds the documents pending the applicant's waiver (Art. 16(c)(iii)(b)). The
        // amount stays reserved; the presentation ends when the applicant waives (Art. 16(b)),
        // the bank refuses for good, the beneficiary withdraws it, or at the close of the
        // fifth banking day (Art. 14(b)) without a waiver.
        reserved = reserved + drawing;
        p_state[id] = P_DISCREPANT;
        bl_undecided[bl] = bl_undecided[bl] + 1;
        emit Discrepant(id, d);
        let deadline = (add_banking_days(now(), 5) / DAY + 1) * DAY - 1;
        p_deadline[id] = deadline;
        schedule examination_deadline(id) at deadline;
    }
    return id;
}

// Art. 16(b): the applicant waives the discrepancies its notice listed; the presentation is
// honoured — unless drawings honoured since the notice gave it discrepancies the notice did not
// list (the B/L paid in another drawing, the quantity used up): those cannot have been waived.
pub fn waive(id: int) {
    no_value();
    only(applicant, "applicant");
    require(p_state[id] == P_DISCREPANT, "the presentation is not awaiting a waiver");
    require(arisen_since_notice(id) == 0,
            "drawings honoured since its notice gave this presentation discrepancies the notice did not list; it cannot be waived (Art. 16(b))");
    decided(id);
    emit Waived(id);
    honour(id, true);
}

// The rules whose outcome depends on other drawings, examined again for a discrepant
// presentation: the discrepancies they find now that its notice did not list.
fn arisen_since_notice(id: int) -> int {
    let told = p_discrepancies[id];
    let d = 0;
    if has(required_docs, DOC_TRANSPORT) && bl_used[p_transport[id]] && !has(told, D_TRANSPORT_REUSED) { d = d + D_TRANSPORT_REUSED; }
    if !has(told, D_QUANTITY) { d = d + quantity_discrepancy(p_quantity[id]); }
    if has(flags, PARTIAL_FORBIDDEN) && honoured_count > 0 && !has(told, D_PARTIAL) { d = d + D_PARTIAL; }
    return d;
}

// Art. 30(a), (b): the goods of a drawing against the quantity tolerance, counting the goods of
// the drawings honoured before it when partial shipments are allowed (Art. 31(a)).
fn quantity_discrepancy(goods_quantity: int) -> int {
    let tolerance = 5;
    if has(flags, ABOUT_QUANTITY) { tolerance = 10; }
    else if has(flags, COUNTED_UNITS) { tolerance = 0; }
    let most = quantity + percent(quantity, tolerance);
    if !has(flags, PARTIAL_FORBIDDEN) {
        if shipped_quantity + goods_quantity > most { return D_QUANTITY; }
    } else if goods_quantity < quantity - percent(quantity, tolerance) || goods_quantity > most {
        return D_QUANTITY;
    }
    return 0;
}

// A discrepant presentation is decided (waived, refused, withdrawn): its B/L is no longer held by it.
fn decided(id: int) {
    let bl = p_transport[id];
    bl_undecided[bl] = bl_undecided[bl] - 1;
}

// Art. 16(c): the issuing bank refuses; the presentation ends and its amount is released.
pub fn refuse(id: int) {
    no_value();
    require(caller() == issuing_bank || (confirmed && caller() == confirming_bank), "only the issuing or confirming bank may refuse");
    require(p_state[id] == P_DISCREPANT, "only a discrepant presentation can be refused");
    refuse_presentation(id);
}

fn refuse_presentation(id: int) {
    decided(id);
    p_state[id] = P_REFUSED;
    emit Refused(id, p_discrepancies[id]);
    release(p_amount[id]);
}

// The beneficiary takes back a discrepant presentation (e.g. to present corrected documents
// before expiry); its amount is released.
pub fn withdraw(id: int) {
    no_value();
    only(beneficiary, "beneficiary");
    require(p_state[id] == P_DISCREPANT, "only a discrepant presentation can be withdrawn");
    decided(id);
    p_state[id] = P_WITHDRAWN;
    emit Withdrawn(id);
    release(p_amount[id]);
}

// ---- Scheduled calls ------------------------------------------------------------------------

// Each of these runs by itself at its time. Each has a `pub fn` twin that anyone may call
// once the time has passed, doing the same idempotent work: if a scheduled call could not run
// (no block was made, or it failed), the money is still never stuck.

// Art. 14(b), 16(c): undecided at the close of the fifth banking day → refused.
fn lapse_if_due(id: int) -> bool {
    if p_state[id] != P_DISCREPANT || now() < p_deadline[id] { return false; }
    refuse_presentation(id);
    return true;
}

// Art. 7(a)(ii), 12(b): a deferred payment undertaking pays at maturity.
fn mature_if_due(id: int) -> bool {
    if p_state[id] != P_DEFERRED || now() < p_maturity[id] { return false; }
    reserved = reserved - p_amount[id];
    pay_presentation(id);
    return true;
}

// Art. 6(e): at expiry (extended by Art. 29(a)) what is neither paid nor held for a
// presentation goes back to the applicant. A later amendment may have moved the expiry: then
// the call for the old date does nothing and the one scheduled for the new date acts.
fn expire_if_due() -> bool {
    if state != ISSUED || now() < effective_expiry() { return false; }
    state = EXPIRED;
    if pending_amendment != 0 { reject_amendment(pending_amendment, "the credit expired"); }
    let refund = balance(self(), currency) - reserved;
    if refund > 0 { pay(applicant, currency, refund); }
    emit Expired(refund);
    return true;
}

sched fn examination_deadline(id: int) {
    lapse_if_due(id);
}

sched fn mature(id: int) {
    mature_if_due(id);
}

sched fn expire() {
    expire_if_due();
}

pub fn lapse(id: int) {
    no_value();
    require(lapse_if_due(id), "the presentation is not discrepant, or its examination period has not ended");
}

pub fn settle(id: int) {
    no_value();
    require(mature_if_due(id), "the presentation is not a deferred payment that has matured");
}

pub fn close() {
    no_value();
    require(expire_if_due(), "the credit is not issued, or its expiry has not passed");
}

// ---- Queries (free to read through a dry run) -----------------------------------------------

pub fn status() -> int {
    no_value();
    return state;
}

pub fn available_amount() -> int {
    no_value();
    return available();
}

pub fn presentation(id: int) -> int {
    no_value();
    return p_state[id];
}

pub fn discrepancies(id: int) -> int {
    no_value();
    return p_discrepancies[id];
}
