package org.euterpe.pipeline.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options: {@code --name value}, {@code --name=value}, {@code --flag}, and positional
 * arguments; after {@code --} every argument is positional (a prompt may start with a dash).
 * Unknown options and missing values are usage errors naming the option.
 */
final class Args {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /**
     * @param withValue options that take a value
     * @param flags     options that do not
     */
    Args(String[] args, Set<String> withValue, Set<String> flags) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                positional.addAll(java.util.Arrays.asList(args).subList(i + 1, args.length));
                break;
            }
            if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                String name = a;
                String inline = null;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    name = a.substring(0, eq);
                    inline = a.substring(eq + 1);
                }
                if (flags.contains(name) && inline == null) {
                    values.put(name, "true");
                } else if (withValue.contains(name)) {
                    String v = inline;
                    if (v == null) {
                        if (i + 1 >= args.length) {
                            throw new Main.UsageException(name + " needs a value");
                        }
                        v = args[++i];
                    }
                    values.put(name, v);
                } else {
                    throw new Main.UsageException("unknown option " + name + " (see --help)");
                }
            } else {
                positional.add(a);
            }
        }
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String get(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    List<String> positional() {
        return positional;
    }

    Integer intOpt(String name) {
        String v = values.get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(name + " must be an integer, got \"" + v + "\"");
        }
    }

    Double doubleOpt(String name) {
        String v = values.get(name);
        if (v == null) {
            return null;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(name + " must be a number, got \"" + v + "\"");
        }
    }

    Long longOpt(String name) {
        String v = values.get(name);
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(name + " must be an integer, got \"" + v + "\"");
        }
    }
}
