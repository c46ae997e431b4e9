import ChainTypes
import Ledger

/// A host that keeps storage in memory and refuses payments: for running contracts outside a
/// ledger (the VM benchmark and the fuzzer). Events and scheduled calls are accepted and
/// counted, within the ledger's limits.
public final class MemoryContractHost: ContractHost {
    public let contract = Address(bytes: [UInt8](repeating: 0xc0, count: 20))!
    public let caller = Address(bytes: [UInt8](repeating: 0xca, count: 20))!
    public let callerRole: Role? = .exporter
    public let blockTimeMillis: UInt64 = 1_764_000_000_000
    public let blockHeight: UInt64 = 1
    public private(set) var slots: [[UInt8]: [UInt8]] = [:]
    public private(set) var events = 0
    public private(set) var scheduled = 0

    public init() {}

    public func load(_ key: [UInt8]) -> [UInt8]? { slots[key] }
    public func store(_ key: [UInt8], _ value: [UInt8]?) { slots[key] = value }
    public func balance(of account: Address, _ currency: CurrencyCode) -> UInt64 { 0 }
    public func transfer(to: Address, _ currency: CurrencyCode, _ amount: UInt64) -> Bool { false }
    public func emit(topics: [Hash], data: [UInt8]) -> Bool {
        guard topics.count <= Event.maxTopics, data.count <= Event.maxDataBytes, events < Receipt.maxEvents - 1 else { return false }
        events += 1
        return true
    }
    public func scheduleCall(atMillis: UInt64, input: [UInt8]) -> Bool {
        guard atMillis > blockTimeMillis, input.count <= 4_096, scheduled < 16 else { return false }
        scheduled += 1
        return true
    }
    public func roleOf(_ account: Address) -> Role? { nil }
}
