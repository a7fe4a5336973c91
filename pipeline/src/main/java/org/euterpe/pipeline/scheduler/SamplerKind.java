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

    /** Whether the sampler can use Karras sigmas (DDIM and PNDM step on timesteps, Euler-a does not in diffusers). */
    public boolean supportsKarras() {
        return this != DDIM && this != PNDM && this != EULER_ANCESTRAL;
    }

    /** "lms, euler, heun, dpm++2m, unipc" */
    public static String karrasNames() {
        StringBuilder b = new StringBuilder();
        for (SamplerKind k : values()) {
            if (k.supportsKarras()) {
                b.append(b.isEmpty() ? "" : ", ").append(k.cliName);
            }
        }
        return b.toString();
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
