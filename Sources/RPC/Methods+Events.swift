import ChainTypes
import ContractVM
import Ledger

/// Which events a query or subscription wants; every given field must match.
public struct EventFilter: Sendable, Equatable {
    public var contract: Address?
    public var party: Address?
    public var name: String?

    public init(contract: Address? = nil, party: Address? = nil, name: String? = nil) {
        self.contract = contract; self.party = party; self.name = name
    }
}

/// One page of events.
struct EventPage {
    var events: [JSON] = []
    /// The last event's cursor when the page filled before the range ended; resume after it.
    var next: EventCursor?
    /// The last event examined (or the range's end).
    var scannedTo: EventCursor?
}

extension HansaRPC {
    static let filterParams: [RPCParam] = [
        RPCParam("contract", required: false, "only events of this contract", schema: Schema.address),
        RPCParam("credit", required: false, "only events of this letter of credit (a contract address)", schema: Schema.address),
        RPCParam("party", required: false, "only events that involve this address", schema: Schema.address),
        RPCParam("event", required: false, "only events with this name (e.g. Paid, Transfer)", schema: Schema.string("an event name")),
    ]

    func filter(_ p: RPCParams) throws(RPCError) -> EventFilter {
        let contract = try p.address("contract"), credit = try p.address("credit")
        if contract != nil, credit != nil, contract != credit { throw .invalidParams("contract and credit name different contracts") }
        return EventFilter(contract: contract ?? credit, party: try p.address("party"), name: try p.string("event", maxBytes: 64))
    }

    func eventMethods() -> [RPCMethod] {
        [
            RPCMethod("events.query", "Events in a height range by contract, credit, party and name, oldest first, a page at a time.",
                      params: Self.filterParams + [
                          RPCParam("from_height", required: false, "first height (default 1)", schema: Schema.uint64),
                          RPCParam("to_height", required: false, "last height (default: the head)", schema: Schema.uint64),
                          RPCParam("after", required: false, "a cursor (height.receipt.event): events after it", schema: Schema.string("a cursor")),
                          RPCParam("limit", required: false, "most events in the page (default 100)",
                                   schema: Schema.integer("events", minimum: 1, maximum: limits.maxPageItems)),
                          authParam,
                      ],
                      result: "page", schema: Schema.object("events, next_cursor")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let p = call.params
                let f = try filter(p)
                var from = try p.uint64("from_height") ?? 1
                let to = min(try p.uint64("to_height") ?? s.head.height, s.head.height)
                let after = try p.cursor("after")
                if let after { from = max(from, after.height) }
                let limit = try p.int("limit", in: 1...limits.maxPageItems) ?? 100
                guard from >= 1 else { throw .invalidParams("from_height starts at 1", param: "from_height") }
                if to >= from, f.contract == nil, to - from + 1 > UInt64(limits.maxQueryBlocks) {
                    throw .limit("max_query_blocks", value: Int(clamping: to - from + 1), max: limits.maxQueryBlocks,
                                 "the range spans \(to - from + 1) blocks; query at most \(limits.maxQueryBlocks) at once, or filter by contract")
                }
                let reader = try reader(call, s)
                if let c = f.contract { try authorizeContractRead(reader, call, c, s) }
                let page = try events(f, from: from, to: to, after: after, limit: limit, reader: reader, s)
                return .object(["events": .array(page.events), "next_cursor": page.next.map { .string($0.description) } ?? .null,
                                "to_height": .string(String(to))])
            },
        ]
    }

    /// The events matching `f` in `from...to` after `after`, at most `limit`, that `reader`
    /// may read (the others are left out). A contract filter reads the index; otherwise the
    /// blocks are scanned.
    func events(_ f: EventFilter, from: UInt64, to: UInt64, after: EventCursor?, limit: Int, reader: Reader,
                _ s: LedgerSnapshot) throws(RPCError) -> EventPage {
        var page = EventPage()
        guard from <= to else { return page }
        var receiptsCache: (UInt64, [Receipt], BlockHeader)? = nil
        func load(_ h: UInt64) throws(RPCError) -> ([Receipt], BlockHeader)? {
            if let c = receiptsCache, c.0 == h { return (c.1, c.2) }
            guard let r = try read({ () throws(LedgerError) in try s.receipts(at: h) }),
                  let b = try read({ () throws(LedgerError) in try s.block(at: h) }) else { return nil }
            receiptsCache = (h, r, b.header)
            return (r, b.header)
        }
        func consider(_ c: EventCursor, _ receipts: [Receipt], _ header: BlockHeader) -> Bool {
            if let after, c <= after { return true }
            guard c.receipt < receipts.count, c.event < receipts[c.receipt].events.count else { return true }
            let r = receipts[c.receipt]
            let e = r.events[c.event]
            page.scannedTo = c
            guard matches(e, f, s), mayRead(e, reader, s) else { return true }
            if page.events.count == limit {
                page.next = page.events.isEmpty ? nil : EventCursor(text: page.events.last!["cursor"]!.stringValue!)
                return false
            }
            page.events.append(eventJSON(e, c, r, header, s))
            return true
        }
        var scanFrom = from
        if let contract = f.contract {
            // The index covers the blocks up to its height; the few after it are scanned.
            let indexed = heads.index.height
            for c in heads.index.contract(contract)?.events ?? [] where c.height >= from && c.height <= min(to, indexed) {
                guard let (receipts, header) = try load(c.height) else { return page }
                if !consider(c, receipts, header) { return page }
            }
            scanFrom = max(from, indexed + 1)
            guard scanFrom <= to else { return page }
        }
        scan: for h in scanFrom...to {
            guard let (receipts, header) = try load(h) else { break }
            for (ri, r) in receipts.enumerated() {
                for ei in r.events.indices where !consider(EventCursor(height: h, receipt: ri, event: ei), receipts, header) {
                    break scan
                }
            }
        }
        return page
    }

    func eventJSON(_ e: Event, _ c: EventCursor, _ r: Receipt, _ header: BlockHeader, _ s: LedgerSnapshot) -> JSON {
        var o = decodedEvent(e, s).objectValue ?? [:]
        o["cursor"] = .string(c.description)
        o["height"] = .string(String(c.height))
        o["time"] = .string(Format.time(header.timestampMillis))
        o["receipt_index"] = .int(c.receipt)
        o["event_index"] = .int(c.event)
        o["transaction_hash"] = .string(r.transactionHash.hex)
        return .object(o)
    }

    func matches(_ e: Event, _ f: EventFilter, _ s: LedgerSnapshot) -> Bool {
        if let c = f.contract, e.emitter != c { return false }
        if let name = f.name {
            guard e.topics.first == Event.topic(name) else { return false }
        }
        if let party = f.party, !involves(e, party, s) { return false }
        return true
    }

    /// Whether an event concerns `a`: it emitted it, an address topic names it, or it is a party
    /// of the emitting contract.
    func involves(_ e: Event, _ a: Address, _ s: LedgerSnapshot) -> Bool {
        if e.emitter == a { return true }
        if e.topics.dropFirst().contains(where: { LedgerEvents.address($0) == a }) { return true }
        if let decoded = abis.abi(of: e.emitter, s)?.decode(e), let fields = decoded["fields"]?.objectValue,
           fields.keys.contains(where: { fields[$0] == JSON.string(a.text) }) { return true }
        return heads.index.contract(e.emitter) != nil && abis.parties(of: e.emitter, s).contains(a)
    }

    /// Events of contracts are their parties'; the ledger's transfers, mints and burns belong to
    /// the accounts they name (and their banks); registrations, deployments and pin changes are public.
    func mayRead(_ e: Event, _ reader: Reader, _ s: LedgerSnapshot) -> Bool {
        if reader.seesEverything { return true }
        if heads.index.contract(e.emitter) != nil || ((try? s.account(e.emitter))??.codeHash != nil) {
            if e.topics.first == ChainIndex.deployedTopic { return true }
            return reader.mayReadContract(e.emitter, s)
        }
        guard let name = e.topics.first.flatMap({ LedgerEvents.byTopic[$0] }) else { return false }
        switch name {
        case "Transfer", "Mint", "Burn":
            return e.topics.dropFirst().compactMap(LedgerEvents.address).contains { reader.mayReadAccount($0, s) }
        default:
            return true
        }
    }
}
