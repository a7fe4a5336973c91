package org.euterpe.tensor;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Frees every tensor allocated inside it, on the thread that opened it, when closed.
 *
 * <p>Model code opens a scope per layer or per step, so intermediates are freed
 * deterministically (which GPU backends need) without a close per tensor:
 *
 * <pre>{@code
 * try (Scope scope = Scope.open()) {
 *     Tensor h = ...;             // intermediates: freed at scope close
 *     return scope.keep(result);  // handed to the enclosing scope (or to the caller)
 * }
 * }</pre>
 *
 * Tensors allocated with no scope open belong to the caller, who closes them.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Set<Storage> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private Scope() {
    }

    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** Called when a storage is allocated: the innermost open scope of this thread takes it. */
    static void track(Storage storage) {
        Scope top = STACK.get().peek();
        if (top != null) {
            top.owned.add(storage);
        }
    }

    /**
     * Moves {@code t}'s storage out of this scope into the enclosing one, or to the caller when
     * there is none. For a view, the whole underlying storage moves.
     */
    public <T extends Tensor> T keep(T t) {
        if (t != null && owned.remove(t.storage())) {
            ArrayDeque<Scope> stack = STACK.get();
            Scope parent = null;
            boolean seen = false;
            for (Scope s : stack) { // from innermost outwards
                if (seen) {
                    parent = s;
                    break;
                }
                seen = s == this;
            }
            if (parent != null) {
                parent.owned.add(t.storage());
            }
        }
        return t;
    }

    /**
     * Hands every storage this scope owns to the caller, who must close them, and leaves the scope
     * empty: for allocations that outlive the scope, such as a model's weights loaded inside one so that
     * a failed load frees what it had uploaded.
     */
    public List<Storage> release() {
        List<Storage> out = List.copyOf(owned);
        owned.clear();
        return out;
    }

    /** Number of storages this scope would free now. */
    public int size() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("a Scope must be closed on the thread that opened it");
        }
        closed = true;
        ArrayDeque<Scope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("scopes closed out of order");
        }
        stack.pop();
        for (Storage s : owned) {
            s.close();
        }
        owned.clear();
    }
}
