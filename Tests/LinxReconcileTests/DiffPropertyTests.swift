import LinxReconcile
import PropertyBased
import Testing

/// A minimal keyed item: the diff engine knows nothing about kernels, so its
/// laws are checked on the smallest thing that has an identity and a value.
private struct Item: Keyed, CustomStringConvertible {
    var key: Int
    var value: Int
    /// Ownership tag for two-way diffs (the analogue of rtm_protocol).
    var ours: Bool
    var description: String { "\(key)=\(value)\(ours ? "" : "(foreign)")" }
}

private let itemGen = zip(Gen.int(in: 0...24), Gen.int(in: 0...2), Gen.bool)
    .map { Item(key: $0, value: $1, ours: $2) }
private let itemsGen = itemGen.array(of: 0...20)
private let keysGen = Gen.int(in: 0...24).array(of: 0...12)
private let shuffleSeedGen = Gen.int(in: 0...Int.max)
private let cases = 1_000

/// Desired states have unique keys and carry our tag.
private func desiredOf(_ items: [Item]) -> [Item] {
    var seen = Set<Int>()
    return items.compactMap { seen.insert($0.key).inserted ? Item(key: $0.key, value: $0.value, ours: true) : nil }
}

/// A kernel holds one item per key.
private func observedOf(_ items: [Item]) -> [Item] {
    var seen = Set<Int>()
    return items.filter { seen.insert($0.key).inserted }
}

/// Plays ops against a keyed store the way a kernel would.
private func apply(_ ops: [ReconcileOp<Item>], to observed: [Item]) -> [Int: Item] {
    var store = Dictionary(uniqueKeysWithValues: observed.map { ($0.key, $0) })
    for op in ops {
        switch op {
        case .create(let item), .update(let item, _): store[item.key] = item
        case .delete(let item): store[item.key] = nil
        }
    }
    return store
}

/// Deterministic shuffle from a seed (a tiny LCG: the test must replay).
private func shuffled<T>(_ items: [T], seed: Int) -> [T] {
    var state = UInt64(truncatingIfNeeded: seed) | 1
    var result = items
    for i in result.indices.reversed() where i > 0 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        result.swapAt(i, Int(state >> 33) % (i + 1))
    }
    return result
}

@Suite("Diff engine laws")
struct DiffPropertyTests {
    @Test("two-way: applying the ops makes the owned part equal desired, foreign items untouched")
    func twoWayConverges() async {
        await propertyCheck(count: cases, input: itemsGen, itemsGen) { rawDesired, rawObserved in
            let desired = desiredOf(rawDesired), observed = observedOf(rawObserved)
            let ops = Diff.twoWay(desired: desired, observed: observed, isOwned: \.ours)
            let after = apply(ops, to: observed)
            let ownedAfter = after.values.filter(\.ours)
            #expect(Set(ownedAfter) == Set(desired))
            for item in observed where !item.ours && !desired.contains(where: { $0.key == item.key }) {
                #expect(after[item.key] == item, "foreign \(item) was changed")
            }
        }
    }

    @Test("two-way: foreign items are never deleted or updated")
    func twoWayNeverTouchesForeign() async {
        await propertyCheck(count: cases, input: itemsGen, itemsGen) { rawDesired, rawObserved in
            let ops = Diff.twoWay(desired: desiredOf(rawDesired), observed: observedOf(rawObserved), isOwned: \.ours)
            for op in ops {
                switch op {
                case .delete(let item): #expect(item.ours, "deleted foreign \(item)")
                case .update(_, let previous): #expect(previous.ours, "updated foreign \(previous)")
                case .create: break
                }
            }
        }
    }

    @Test("three-way: desired keys hold desired values, released owned keys are gone, the rest is untouched")
    func threeWayConverges() async {
        await propertyCheck(count: cases, input: itemsGen, itemsGen, keysGen) { rawDesired, rawObserved, ownedKeys in
            let desired = desiredOf(rawDesired), observed = observedOf(rawObserved)
            let owned = Set(ownedKeys)
            let ops = Diff.threeWay(desired: desired, observed: observed, owned: owned)
            let after = apply(ops, to: observed)
            let desiredKeys = Set(desired.map(\.key))
            for item in desired { #expect(after[item.key] == item) }
            for key in owned.subtracting(desiredKeys) { #expect(after[key] == nil, "owned key \(key) not released") }
            for item in observed where !owned.contains(item.key) && !desiredKeys.contains(item.key) {
                #expect(after[item.key] == item, "foreign \(item) was changed")
            }
        }
    }

    @Test("three-way: only owned keys are ever deleted")
    func threeWayDeletesOnlyOwned() async {
        await propertyCheck(count: cases, input: itemsGen, itemsGen, keysGen) { rawDesired, rawObserved, ownedKeys in
            let owned = Set(ownedKeys)
            let ops = Diff.threeWay(desired: desiredOf(rawDesired), observed: observedOf(rawObserved), owned: owned)
            for case .delete(let item) in ops { #expect(owned.contains(item.key), "deleted unowned \(item)") }
        }
    }

    @Test("the diff of a state against itself is empty")
    func selfDiffIsEmpty() async {
        var runs = 0
        await propertyCheck(count: cases, input: itemsGen, keysGen) { raw, ownedKeys in
            runs += 1
            let desired = desiredOf(raw)
            #expect(Diff.twoWay(desired: desired, observed: desired, isOwned: \.ours).isEmpty)
            let owned = Set(ownedKeys).union(desired.map(\.key))
            #expect(Diff.threeWay(desired: desired, observed: desired, owned: owned).isEmpty)
        }
        #expect(runs == cases, "the property must really run \(cases) cases")
    }

    @Test("the ops do not depend on input order")
    func orderIndependent() async {
        await propertyCheck(count: cases, input: itemsGen, itemsGen, keysGen, shuffleSeedGen) { rawDesired, rawObserved, ownedKeys, seed in
            let desired = desiredOf(rawDesired), observed = observedOf(rawObserved)
            let owned = Set(ownedKeys)
            #expect(
                Diff.twoWay(desired: desired, observed: observed, isOwned: \.ours)
                    == Diff.twoWay(desired: shuffled(desired, seed: seed), observed: shuffled(observed, seed: seed &+ 1), isOwned: \.ours))
            #expect(
                Diff.threeWay(desired: desired, observed: observed, owned: owned)
                    == Diff.threeWay(desired: shuffled(desired, seed: seed), observed: shuffled(observed, seed: seed &+ 1), owned: owned))
        }
    }

    @Test("an update carries the desired item and the observed one it replaces")
    func updateCarriesBoth() {
        let observed = [Item(key: 1, value: 0, ours: true)]
        let desired = [Item(key: 1, value: 2, ours: true)]
        #expect(Diff.twoWay(desired: desired, observed: observed, isOwned: \.ours) == [.update(desired[0], previous: observed[0])])
    }
}
