import ChainTypes
import ContractVM
import Ledger

// contract.* — driven by each contract's ABI, for any contract.
extension HansaRPC {
    func contractMethods() -> [RPCMethod] {
        let contractParam = RPCParam("contract", "the contract's address", schema: Schema.address)
        return [
            RPCMethod("contract.abi", "The ABI the node knows for a contract (functions, events, storage), by its code hash.",
                      params: [contractParam], result: "abi", schema: Schema.object("the ABI document with code_hash")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let address = try call.params.required("contract", call.params.address)
                let abi = try knownABI(address, s)
                var doc = abi.document.objectValue ?? [:]
                doc["code_hash"] = .string(abi.codeHash.hex)
                doc["name"] = .string(abi.name)
                return .object(doc)
            },
            RPCMethod("contract.encodeCall", "Encodes a call's input from named arguments by the contract's ABI (for clients building transactions).",
                      params: [contractParam, RPCParam("function", "the function's name", schema: Schema.string("an identifier")),
                               RPCParam("args", required: false, "the arguments by name", schema: Schema.object("named arguments"))],
                      result: "input", schema: Schema.object("input_hex")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let address = try call.params.required("contract", call.params.address)
                let abi = try knownABI(address, s)
                let function = try call.params.required("function") { (n: String) throws(RPCError) in try call.params.string(n, maxBytes: 64) }
                let args = try call.params.object("args") ?? [:]
                do throws(ABIError) {
                    return .object(["input_hex": .string(Hex.encode(try abi.encodeCall(function, args: args)))])
                } catch { throw .invalidParams(error.message, param: "args") }
            },
            RPCMethod("contract.call", "Runs a contract's pub fn on the head state without changing it (a free query) and decodes its result.",
                      params: [contractParam, RPCParam("function", "the function's name", schema: Schema.string("an identifier")),
                               RPCParam("args", required: false, "the arguments by name", schema: Schema.object("named arguments")),
                               authParam],
                      result: "outcome", schema: Schema.object("succeeded, result, gas_used")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let address = try call.params.required("contract", call.params.address)
                let abi = try knownABI(address, s)
                let reader = try reader(call, s)
                try authorizeContractRead(reader, call, address, s)
                let function = try call.params.required("function") { (n: String) throws(RPCError) in try call.params.string(n, maxBytes: 64) }
                guard let f = abi.function(function), f.kind == "public" else {
                    throw .invalidParams("\(abi.name) has no pub fn \(function)", param: "function")
                }
                let input: [UInt8]
                let args = try call.params.object("args") ?? [:]
                do throws(ABIError) { input = try abi.encodeCall(function, args: args) } catch {
                    throw .invalidParams(error.message, param: "args")
                }
                let outcome = try read { () throws(LedgerError) in try s.readOnlyCall(address, input: input, caller: reader.address ?? address) }
                guard outcome.succeeded else {
                    throw RPCError(code: RPCError.codeCallFailed, message: "the call failed: \(outcome.failure ?? "no reason given")",
                                   reason: "call_failed", ["gas_used": .string(String(outcome.gasUsed))])
                }
                var result: JSON = .null
                if let type = f.result, let value = try? ABI.decodeValues(outcome.output), value.count == 1, value[0].type == type {
                    result = ContractABI.json(value[0])
                }
                return .object(["result": result, "gas_used": .string(String(outcome.gasUsed))])
            },
            RPCMethod("contract.storage", "A contract's storage variable, or one entry of a storage map, decoded by its ABI.",
                      params: [contractParam, RPCParam("name", "the variable's or map's name", schema: Schema.string("an identifier")),
                               RPCParam("key", required: false, "the map key (of the map's key type)", schema: .object([:])),
                               authParam],
                      result: "value", schema: Schema.object("name, key, value")) { [self] call throws(RPCError) in
                let s = try snapshot()
                let address = try call.params.required("contract", call.params.address)
                let abi = try knownABI(address, s)
                let reader = try reader(call, s)
                try authorizeContractRead(reader, call, address, s)
                let name = try call.params.required("name") { (n: String) throws(RPCError) in try call.params.string(n, maxBytes: 64) }
                guard let slot = abi.storage.first(where: { $0.name == name }) else {
                    throw .invalidParams("\(abi.name) has no storage \(name)", param: "name")
                }
                var key = Array(name.utf8)
                if let keyType = slot.keyType {
                    guard let k = call.params["key"] else { throw .invalidParams("\(name) is a map: give its key (\(keyType))", param: "key") }
                    do throws(ABIError) { key += [UInt8(ascii: "/")] + ABI.encode(try ContractABI.value(k, as: keyType, name: "key")) } catch {
                        throw .invalidParams(error.message, param: "key")
                    }
                } else if call.params["key"] != nil {
                    throw .invalidParams("\(name) is a variable, not a map: leave out key", param: "key")
                }
                let bytes = try read { () throws(LedgerError) in try s.contractStorage(address, key: key) }
                return .object(["name": .string(name), "key": call.params["key"] ?? .null, "value": ContractABI.storageValue(bytes, slot.type)])
            },
        ]
    }

    /// The contract's ABI, or why there is none.
    func knownABI(_ address: Address, _ s: LedgerSnapshot) throws(RPCError) -> ContractABI {
        if let abi = abis.abi(of: address, s) { return abi }
        let account = try read { () throws(LedgerError) in try s.account(address) }
        guard let codeHash = account?.codeHash else {
            throw .notFound("contract", address.text)
        }
        throw RPCError(code: RPCError.codeUnknownABI,
                       message: "this node has no ABI for \(address) (code hash \(codeHash.hex)) that agrees with its code; "
                           + "put the contract's .abi.json in the node's ABI directory",
                       reason: "unknown_abi", ["contract": .string(address.text), "code_hash": .string(codeHash.hex)])
    }

    /// An event as JSON: named fields by its emitter's ABI or the ledger's own events, else raw.
    func decodedEvent(_ e: Event, _ s: LedgerSnapshot) -> JSON {
        var o: JSONObject = ["emitter": .string(e.emitter.text)]
        if let abi = abis.abi(of: e.emitter, s), let decoded = abi.decode(e) {
            o["name"] = decoded["name"]
            o["fields"] = decoded["fields"]
        } else if let builtin = LedgerEvents.decode(e, s.genesis) {
            o["name"] = .string(builtin.name)
            o["fields"] = .object(builtin.fields)
        }
        o["topics"] = .array(e.topics.map { .string($0.hex) })
        o["data_hex"] = .string(Hex.encode(e.data))
        return .object(o)
    }
}

/// The ledger's own events (PROTOCOL.md §17), decoded into named fields.
enum LedgerEvents {
    static let names = ["Transfer", "Mint", "Burn", "Registered", "RoleChanged", "Deployed", "NodePinChanged"]
    static let byTopic: [Hash: String] = Dictionary(uniqueKeysWithValues: names.map { (Event.topic($0), $0) })

    static func address(_ topic: Hash) -> Address? {
        let b = topic.bytes
        guard b[20...].allSatisfy({ $0 == 0 }) else { return nil }
        return Address(bytes: Array(b[..<20]))
    }

    static func decode(_ e: Event, _ genesis: Genesis) -> (name: String, fields: JSONObject)? {
        guard let first = e.topics.first, let name = byTopic[first] else { return nil }
        var fields = JSONObject()
        switch (name, e.topics.count) {
        case ("Transfer", 3):
            fields["from"] = address(e.topics[1]).map { .string($0.text) } ?? .null
            fields["to"] = address(e.topics[2]).map { .string($0.text) } ?? .null
            if let (c, a) = amount(e.data) { fields["amount"] = Format.amount(a, c, genesis) }
        case ("Transfer", 1):
            // A contract's payment out of its balance: recipient ‖ currency code.
            guard e.data.count == 23, let to = Address(bytes: Array(e.data[..<20])) else { return nil }
            fields["from"] = .string(e.emitter.text)
            fields["to"] = .string(to.text)
            fields["currency"] = .string(String(decoding: e.data[20...], as: UTF8.self))
        case ("Mint", 2), ("Burn", 2):
            fields["account"] = address(e.topics[1]).map { .string($0.text) } ?? .null
            if let (c, a) = amount(e.data) { fields["amount"] = Format.amount(a, c, genesis) }
        case ("Registered", 2), ("RoleChanged", 2), ("Deployed", 2), ("NodePinChanged", 3):
            fields["account"] = address(e.topics[1]).map { .string($0.text) } ?? .null
            if name == "Deployed", let deployer = Address(bytes: e.data) { fields["deployer"] = .string(deployer.text) }
            if name == "Registered", e.data.count == 1, let role = Role(rawValue: e.data[0]) { fields["role"] = .string(role.name) }
        default:
            return nil
        }
        return (name, fields)
    }

    static func amount(_ data: [UInt8]) -> (CurrencyCode, UInt64)? {
        var r = CanonicalReader(data, root: "event data")
        guard let c = try? r.currency("currency"), let a = try? r.uvarint("amount"), r.remaining == 0 else { return nil }
        return (c, a)
    }
}
