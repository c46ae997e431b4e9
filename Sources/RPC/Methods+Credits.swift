import ChainTypes
import ContractVM
import Ledger

// lc.* — letters of credit: contracts whose ABI is named `letter_of_credit`
// (contracts/letter_of_credit.hc, docs/CONTRACTS.md). Their details are need-to-know.
extension HansaRPC {
    static let creditABIName = "letter_of_credit"
    /// Fields of the credit's events and storage that are amounts in the credit's currency.
    static let amountFields: Set<String> = ["amount", "escrowed", "refund", "paid", "reserved"]

    func creditMethods() -> [RPCMethod] {
        let creditParam = RPCParam("credit", "the credit's contract address", schema: Schema.address)
        return [
            RPCMethod("lc.get", "A letter of credit: terms, parties, state and amounts (minor units and text), for its parties, auditors and regulators.",
                      params: [creditParam, authParam], result: "credit", schema: Schema.object("credit")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let credit = try call.params.required("credit", call.params.address)
                let abi = try creditABI(credit, s)
                let reader = try reader(call, s)
                try authorizeContractRead(reader, call, credit, s)
                return try creditJSON(credit, abi, s)
            },
            RPCMethod("lc.list", "The letters of credit a party is a party to (the party itself, or an auditor or regulator, asks).",
                      params: [RPCParam("party", "the party's address", schema: Schema.address),
                               RPCParam("limit", required: false, "most credits (default 100)",
                                        schema: Schema.integer("credits", minimum: 1, maximum: limits.maxPageItems)),
                               authParam],
                      result: "credits", schema: Schema.object("credits")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let party = try call.params.required("party", call.params.address)
                let limit = try call.params.int("limit", in: 1...limits.maxPageItems) ?? 100
                let reader = try reader(call, s)
                guard reader.seesEverything || reader.address == party else {
                    throw reader.refusal("the credits of \(party)")
                }
                var out: [JSON] = []
                for (address, _) in heads.index.contracts() where out.count < limit {
                    guard let abi = abis.abi(of: address, s), abi.name == Self.creditABIName,
                          abis.parties(of: address, s).contains(party) else { continue }
                    accessLog.append(reader: reader.address, role: reader.role, method: call.method, subject: address.text,
                                     remote: call.remote, allowed: true, nowMillis: nowMillis())
                    out.append(try creditJSON(address, abi, s))
                }
                return .object(["party": .string(party.text), "credits": .array(out)])
            },
            RPCMethod("lc.timeline", "Every event of a letter of credit in order, with block height and time (ISO 8601 UTC), amounts in words.",
                      params: [creditParam, RPCParam("after", required: false, "a cursor: events after it", schema: Schema.string("a cursor")),
                               RPCParam("limit", required: false, "most events (default 1000)",
                                        schema: Schema.integer("events", minimum: 1, maximum: limits.maxPageItems)),
                               authParam],
                      result: "timeline", schema: Schema.object("events, next_cursor")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let credit = try call.params.required("credit", call.params.address)
                let abi = try creditABI(credit, s)
                let reader = try reader(call, s)
                try authorizeContractRead(reader, call, credit, s)
                let after = try call.params.cursor("after")
                let limit = try call.params.int("limit", in: 1...limits.maxPageItems) ?? limits.maxPageItems
                let page = try events(EventFilter(contract: credit), from: 1, to: s.head.height, after: after, limit: limit, reader: reader, s)
                let currency = creditCurrency(credit, s)
                return .object(["credit": .string(credit.text), "contract": .string(abi.name),
                                "events": .array(page.events.map { withAmountText($0, currency, s) }),
                                "next_cursor": page.next.map { .string($0.description) } ?? .null])
            },
        ]
    }

    func creditABI(_ credit: Address, _ s: LedgerSnapshot) throws(RPCError) -> ContractABI {
        let abi: ContractABI
        do { abi = try knownABI(credit, s) } catch {
            if error.reason == "not_found" { throw .unknownCredit(credit, why: "it is not a contract") }
            throw error
        }
        guard abi.name == Self.creditABIName else { throw .unknownCredit(credit, why: "it is a \(abi.name) contract") }
        return abi
    }

    func creditCurrency(_ credit: Address, _ s: LedgerSnapshot) -> CurrencyCode? {
        guard let b = try? s.contractStorage(credit, key: Array("currency".utf8)) else { return nil }
        return try? CurrencyCode(String(decoding: b, as: UTF8.self))
    }

    /// The credit's storage variables by name, amounts also as text, times also in ISO 8601.
    func creditJSON(_ credit: Address, _ abi: ContractABI, _ s: LedgerSnapshot) throws(RPCError) -> JSON {
        let currency = creditCurrency(credit, s)
        var terms = JSONObject()
        for slot in abi.storage where slot.keyType == nil {
            let bytes = try read { () throws(LedgerError) in try s.contractStorage(credit, key: Array(slot.name.utf8)) }
            terms[slot.name] = ContractABI.storageValue(bytes, slot.type)
        }
        var amounts = JSONObject()
        for name in Self.amountFields.sorted() {
            if let v = terms[name]?.stringValue, let n = UInt64(v), let currency { amounts[name] = Format.amount(n, currency, s.genesis) }
        }
        var times = JSONObject()
        for name in ["expiry", "latest_shipment"] {
            if let v = terms[name]?.stringValue, let n = UInt64(v), n > 0 { times[name] = .string(Format.time(n)) }
        }
        let stateNames = ["DRAFT", "ISSUED", "EXPIRED", "CANCELLED"]
        var stateName: JSON = .null
        if let v = terms["state"]?.stringValue, let n = Int64(v),
           let name = stateNames.first(where: { abi.constant($0) == n }) { stateName = .string(name.lowercased()) }
        let parties = abis.parties(of: credit, s).map(\.text).sorted()
        let entry = heads.index.contract(credit)
        return .object(["credit": .string(credit.text), "contract": .string(abi.name), "state": stateName, "terms": .object(terms),
                        "amounts": .object(amounts), "times": .object(times), "parties": .array(parties.map { .string($0) }),
                        "deployed_at_height": entry.map { .string(String($0.deployedAt)) } ?? .null,
                        "event_count": .int(entry?.events.count ?? 0)])
    }

    /// Adds `amount_text` beside every amount field of a decoded credit event.
    func withAmountText(_ event: JSON, _ currency: CurrencyCode?, _ s: LedgerSnapshot) -> JSON {
        guard let currency, var o = event.objectValue, var fields = o["fields"]?.objectValue else { return event }
        for name in fields.keys where Self.amountFields.contains(name) {
            if let v = fields[name]?.stringValue, let n = UInt64(v) { fields[name + "_text"] = Format.amount(n, currency, s.genesis)["text"] }
        }
        for name in fields.keys where name == "time" || name == "maturity" || name == "expiry" {
            if let v = fields[name]?.stringValue, let n = UInt64(v), n > 0 { fields[name + "_iso"] = .string(Format.time(n)) }
        }
        o["fields"] = .object(fields)
        return .object(o)
    }
}
