package org.euterpe.pipeline;

import java.util.ArrayList;
import java.util.List;

import org.euterpe.pipeline.audio.WavReader;
import org.euterpe.pipeline.scheduler.SamplerKind;

/**
 * What to generate, for every family ({@link AudioPipeline}). Built with
 * {@link #builder(String...)}; unset values take the model's defaults (AudioLDM: 10 steps, guidance
 * 2.5; MusicLDM: 200 steps, guidance 2.0; Dance Diffusion: 100 steps; the length of the U-Net's
 * sample_size). Text models need at least one prompt; unconditional models (Dance Diffusion) take
 * none, and generate {@link #waveformsPerPrompt()} outputs.
 */
public final class GenerationRequest {
    /** How the initial latents and sampler noise are drawn. */
    public enum NoiseMode {
        /** Euterpe's counter-based noise: identical on every backend. */
        EUTERPE,
        /** Exactly {@code torch.randn(..., generator=torch.Generator().manual_seed(seed))} on the CPU. */
        TORCH
    }

    private final List<String> prompts;
    private final String negativePrompt;
    private final Double guidanceScale;
    private final Integer steps;
    private final Double seconds;
    private final long seed;
    private final int waveformsPerPrompt;
    private final SamplerKind sampler;
    private final boolean karras;
    private final NoiseMode noise;
    private final float eta;
    private final float[] initialLatents;
    // Audio in (shared by every family): a source clip, and how much of it to regenerate.
    private final WavReader.Audio sourceAudio;
    private final Double strength;
    private final Mask mask;

    /**
     * The region to generate, in seconds from the start of the output; everything outside it is kept
     * from the source audio. A region that reaches past the source's end is a continuation.
     */
    public record Mask(double startSeconds, double endSeconds) {
    }

    private GenerationRequest(Builder b) {
        this.prompts = List.copyOf(b.prompts);
        this.negativePrompt = b.negativePrompt;
        this.guidanceScale = b.guidanceScale;
        this.steps = b.steps;
        this.seconds = b.seconds;
        this.seed = b.seed;
        this.waveformsPerPrompt = b.waveformsPerPrompt;
        this.sampler = b.sampler;
        this.karras = b.karras;
        this.noise = b.noise;
        this.eta = b.eta;
        this.initialLatents = b.initialLatents;
        this.sourceAudio = b.sourceAudio;
        this.strength = b.strength;
        this.mask = b.mask;
    }

    public static Builder builder(String... prompts) {
        Builder b = new Builder();
        b.prompts.addAll(List.of(prompts));
        return b;
    }

    public List<String> prompts() {
        return prompts;
    }

    /** Negative prompt for every prompt, or null (the empty string is used). */
    public String negativePrompt() {
        return negativePrompt;
    }

    public Double guidanceScale() {
        return guidanceScale;
    }

    public Integer steps() {
        return steps;
    }

    public Double seconds() {
        return seconds;
    }

    public long seed() {
        return seed;
    }

    public int waveformsPerPrompt() {
        return waveformsPerPrompt;
    }

    /** The sampler, or null for the model's own scheduler class. */
    public SamplerKind sampler() {
        return sampler;
    }

    public boolean karras() {
        return karras;
    }

    public NoiseMode noise() {
        return noise;
    }

    public float eta() {
        return eta;
    }

    /** Initial latents {@code [batch * waveformsPerPrompt, C, h, w]} before init_noise_sigma, or null. */
    public float[] initialLatents() {
        return initialLatents == null ? null : initialLatents.clone();
    }

    /** The source audio of an audio-to-audio request (strength or mask), or null. */
    public WavReader.Audio sourceAudio() {
        return sourceAudio;
    }

    /**
     * SDEdit strength in (0, 1]: how far the source is noised before it is denoised with the prompt
     * (1: plain generation from the same noise), or null when the request is not a regeneration.
     */
    public Double strength() {
        return strength;
    }

    /** The region to regenerate (inpainting) or to add (continuation), or null. */
    public Mask mask() {
        return mask;
    }

    /** Collects the options; {@link #build()} validates them. */
    public static final class Builder {
        private final List<String> prompts = new ArrayList<>();
        private String negativePrompt;
        private Double guidanceScale;
        private Integer steps;
        private Double seconds;
        private long seed = 0;
        private int waveformsPerPrompt = 1;
        private SamplerKind sampler;
        private boolean karras;
        private NoiseMode noise = NoiseMode.EUTERPE;
        private float eta;
        private float[] initialLatents;
        private WavReader.Audio sourceAudio;
        private Double strength;
        private Mask mask;

        /** The audio to regenerate, inpaint or continue. */
        public Builder sourceAudio(WavReader.Audio audio) {
            sourceAudio = audio;
            return this;
        }

        /** SDEdit strength in (0, 1]; needs {@link #sourceAudio}. */
        public Builder strength(double s) {
            strength = s;
            return this;
        }

        /** Regenerate (or, past the source's end, add) {@code [start, end)} seconds; needs {@link #sourceAudio}. */
        public Builder mask(double startSeconds, double endSeconds) {
            mask = new Mask(startSeconds, endSeconds);
            return this;
        }

        public Builder prompt(String p) {
            prompts.add(p);
            return this;
        }

        public Builder negativePrompt(String p) {
            negativePrompt = p;
            return this;
        }

        public Builder guidanceScale(double g) {
            guidanceScale = g;
            return this;
        }

        public Builder steps(int n) {
            steps = n;
            return this;
        }

        public Builder seconds(double s) {
            seconds = s;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public Builder waveformsPerPrompt(int n) {
            waveformsPerPrompt = n;
            return this;
        }

        public Builder sampler(SamplerKind k) {
            sampler = k;
            return this;
        }

        public Builder karras(boolean k) {
            karras = k;
            return this;
        }

        public Builder noise(NoiseMode m) {
            noise = m;
            return this;
        }

        public Builder eta(float e) {
            eta = e;
            return this;
        }

        public Builder initialLatents(float[] latents) {
            initialLatents = latents == null ? null : latents.clone();
            return this;
        }

        /**
         * Validates the options that do not depend on the model. Whether prompts are required (text
         * models) or refused (unconditional models) is the pipeline's check.
         */
        public GenerationRequest build() {
            for (String p : prompts) {
                if (p == null) {
                    throw new IllegalArgumentException("a prompt is null");
                }
            }
            if (guidanceScale != null && !Double.isFinite(guidanceScale)) {
                throw new IllegalArgumentException("guidance scale must be a finite number, got " + guidanceScale);
            }
            if (steps != null && (steps < 1 || steps > 1000)) {
                throw new IllegalArgumentException("steps must be between 1 and 1000, got " + steps);
            }
            if (seconds != null && !(seconds > 0 && seconds <= 3600)) {
                throw new IllegalArgumentException("seconds must be > 0 and at most 3600, got " + seconds);
            }
            if (waveformsPerPrompt < 1 || waveformsPerPrompt > 64) {
                throw new IllegalArgumentException("waveforms per prompt must be between 1 and 64, got "
                        + waveformsPerPrompt);
            }
            if (!(eta >= 0 && eta <= 1)) {
                throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
            }
            checkAudioIn();
            return new GenerationRequest(this);
        }

        private void checkAudioIn() {
            if (strength != null) {
                if (!(strength > 0 && strength <= 1)) {
                    throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
                }
                if (sourceAudio == null) {
                    throw new IllegalArgumentException("strength needs source audio (--init-audio)");
                }
            }
            if (mask != null) {
                if (sourceAudio == null) {
                    throw new IllegalArgumentException("a mask needs source audio (--inpaint or --continue)");
                }
                if (strength != null) {
                    throw new IllegalArgumentException("strength and a mask cannot be combined");
                }
                double a = mask.startSeconds();
                double b = mask.endSeconds();
                if (!(Double.isFinite(a) && Double.isFinite(b) && a >= 0 && b > a)) {
                    throw new IllegalArgumentException("the mask must satisfy 0 <= start < end, got " + a + " to " + b
                            + " s");
                }
                if (a > sourceAudio.seconds()) {
                    throw new IllegalArgumentException("the mask starts at " + a + " s, after the " + sourceAudio.seconds()
                            + " s clip ends");
                }
            }
            if (sourceAudio != null && strength == null && mask == null) {
                throw new IllegalArgumentException("source audio needs a strength (regeneration) or a mask (inpainting"
                        + " or continuation)");
            }
            if (sourceAudio != null && initialLatents != null) {
                throw new IllegalArgumentException("initial latents and source audio cannot be combined");
            }
        }
    }
}
