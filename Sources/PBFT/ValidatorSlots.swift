/// One optional entry per validator, stored by validator index. Iterating it visits the
/// validators in index order, so what a replica derives from its votes, checkpoints and
/// view-changes (sync peers, quorum groups) never depends on hash order — which Swift seeds
/// differently in every process (docs/PROTOCOL.md §14, the replay rule). Lookup and update
/// are an array access: cheaper than the dictionary it replaces.
///
/// Invariant: `count` is the number of non-nil entries; indices are 0 ..< n.
struct ValidatorSlots<Element> {
    private var entries: [Element?]
    private(set) var count = 0

    init(n: Int) { entries = Array(repeating: nil, count: n) }

    subscript(index: Int) -> Element? {
        get { entries[index] }
        set {
            count += (newValue == nil ? 0 : 1) - (entries[index] == nil ? 0 : 1)
            entries[index] = newValue
        }
    }

    /// The entries present with their validator index, ascending by index.
    var indexed: [(index: Int, element: Element)] {
        entries.indices.compactMap { i in entries[i].map { (i, $0) } }
    }

    /// The entries present, ascending by validator index.
    var values: [Element] { entries.compactMap { $0 } }

    /// Clears every entry for which `shouldRemove` holds.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) {
        for i in entries.indices {
            if let e = entries[i], shouldRemove(e) {
                entries[i] = nil
                count -= 1
            }
        }
    }
}
