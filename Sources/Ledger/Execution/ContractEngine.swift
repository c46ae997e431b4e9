import ChainTypes

/// What the ledger lets a running contract do. Every change goes through the host, so a
/// failed call is undone by reverting the host's state.
public protocol ContractHost: AnyObject {
    /// The contract being run.
    var contract: Address { get }
    /// Who called it (a participant, or the contract itself for a scheduled call).
    var caller: Address { get }
    var callerRole: Role? { get }
    var blockTimeMillis: UInt64 { get }
    var blockHeight: UInt64 { get }
    func load(_ key: [UInt8]) -> [UInt8]?
    func store(_ key: [UInt8], _ value: [UInt8]?)
    func balance(of account: Address, _ currency: CurrencyCode) -> UInt64
    /// Pays from the contract's own balance (its escrow); false if funds or recipient are lacking,
    /// if the recipient is a contract (a contract holds only what it accepted through calls), or
    /// if the recipient's balance would pass `Amount.maxMinorUnits`.
    func transfer(to: Address, _ currency: CurrencyCode, _ amount: UInt64) -> Bool
    /// False when the event exceeds its limits or too many events were emitted.
    func emit(topics: [Hash], data: [UInt8]) -> Bool
    /// Asks to be called with `input` (entry `.scheduled`, the contract as caller) at the start
    /// of the first block whose time is at or after `atMillis`. False — nothing recorded — for
    /// a time not after this block's, an input above `ScheduledCall.maxInputBytes`, or past the
    /// bounds on calls per run and waiting calls per contract.
    func scheduleCall(atMillis: UInt64, input: [UInt8]) -> Bool
    func roleOf(_ account: Address) -> Role?
    /// The value the calling transaction sent to the contract (already in its balance), or nil.
    var callValue: Amount? { get }
}

extension ContractHost {
    public var callValue: Amount? { nil }
}

/// Where a contract run starts.
public enum ContractEntry: Sendable, Equatable {
    case constructor
    case call
    case scheduled
}

/// The result of a contract run: success with return data, or failure with a reason. Gas is
/// charged either way.
public struct ContractOutcome: Sendable, Equatable {
    public var succeeded: Bool
    public var output: [UInt8]
    public var failure: String?
    public var gasUsed: UInt64

    public init(succeeded: Bool, output: [UInt8] = [], failure: String? = nil, gasUsed: UInt64) {
        self.succeeded = succeeded; self.output = output; self.failure = failure; self.gasUsed = gasUsed
    }
}

/// The smart-contract VM as the ledger sees it (the VM module implements it).
public protocol ContractEngine: Sendable {
    /// Checks code at deploy; a sentence saying what is wrong, or nil.
    func verify(code: [UInt8]) -> String?
    /// Runs `code` deterministically within `gasLimit`.
    func run(code: [UInt8], entry: ContractEntry, input: [UInt8], gasLimit: UInt64, host: any ContractHost) -> ContractOutcome
    /// The same, given the code's SHA-256, which the ledger already holds (the account's code
    /// hash), so that an engine caching by hash need not hash the code on every call.
    func run(code: [UInt8], codeHash: Hash, entry: ContractEntry, input: [UInt8], gasLimit: UInt64,
             host: any ContractHost) -> ContractOutcome
}

extension ContractEngine {
    /// Engines that do not cache by code hash ignore it.
    public func run(code: [UInt8], codeHash: Hash, entry: ContractEntry, input: [UInt8], gasLimit: UInt64,
                    host: any ContractHost) -> ContractOutcome {
        run(code: code, entry: entry, input: input, gasLimit: gasLimit, host: host)
    }
}

/// Gas each kind of transaction costs before any contract code runs.
public enum GasSchedule {
    public static let transfer: UInt64 = 1_000
    public static let deposit: UInt64 = 1_000
    public static let governance: UInt64 = 5_000
    public static let deployBase: UInt64 = 10_000
    public static let deployPerByte: UInt64 = 10
    public static let callBase: UInt64 = 2_000
    /// No transaction may ask for more.
    public static let maxGasLimit: UInt64 = 50_000_000
    /// The gas limit of one scheduled call run (no intrinsic cost; it has no transaction).
    /// The run that schedules a call prepays it (the VM's `schedule` charges it), and each
    /// scheduled call a block runs reserves it from the block's `maxBlockGas`.
    public static let scheduledCallGas: UInt64 = 1_000_000

    public static func intrinsic(_ kind: TransactionKind, payloadBytes: Int) -> UInt64 {
        switch kind {
        case .transfer: transfer
        case .mint, .burn: deposit
        case .registerParticipant, .changeRole, .setNodePin: governance
        case .deployContract: deployBase + deployPerByte * UInt64(payloadBytes)
        case .callContract: callBase
        }
    }
}
