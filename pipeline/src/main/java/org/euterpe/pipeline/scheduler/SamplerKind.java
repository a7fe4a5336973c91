package org.euterpe.pipeline.scheduler;

import java.util.Locale;

/** The samplers, by their command-line names. */
public enum SamplerKind {
    DDIM("ddim"),
    PNDM("pndm"),
    LMS("lms"),
    EULER("euler"),
    EULER_ANCESTRAL("euler-a"),
    HEUN("heun"),
    DPMPP_2M("dpm++2m"),
    UNIPC("unipc");

    private final String cliName;

    SamplerKind(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The kind for a command-line name, or an error listing the valid ones. */
    public static SamplerKind fromCliName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (SamplerKind k : values()) {
            if (k.cliName.equals(n)) {
                return k;
            }
        }
        StringBuilder valid = new StringBuilder();
        for (SamplerKind k : values()) {
            valid.append(valid.length() == 0 ? "" : ", ").append(k.cliName);
        }
        throw new IllegalArgumentException("unknown sampler \"" + name + "\" (valid: " + valid + ")");
    }
}
