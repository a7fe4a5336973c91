package org.euterpe.pipeline.server;

import java.time.Duration;

/**
 * What the server accepts and keeps.
 *
 * @param maxBodyBytes  largest request body
 * @param maxPromptChars longest prompt or negative prompt, in characters
 * @param maxSeconds    longest audio a request may ask for
 * @param maxSteps      most denoising steps
 * @param maxCount      most waveforms per request
 * @param queue         most jobs waiting (running jobs not counted); beyond it, 429
 * @param keepJobs      most finished jobs (with their audio) kept; the oldest are dropped first
 * @param keepFor       how long a finished job is kept
 * @param grace         on shutdown, how long running and queued jobs may take before they are cancelled
 * @param maxUploadBytes largest multipart body of {@code POST /v1/audio/variations} (the audio file with it)
 */
public record Limits(int maxBodyBytes, int maxPromptChars, double maxSeconds, int maxSteps, int maxCount, int queue,
        int keepJobs, Duration keepFor, Duration grace, int maxUploadBytes) {
    public static Limits defaults() {
        return new Limits(64 * 1024, 2000, 60, 500, 4, 32, 256, Duration.ofMinutes(15), Duration.ofSeconds(30),
                32 << 20);
    }

    public Limits(int maxBodyBytes, int maxPromptChars, double maxSeconds, int maxSteps, int maxCount, int queue,
            int keepJobs, Duration keepFor, Duration grace) {
        this(maxBodyBytes, maxPromptChars, maxSeconds, maxSteps, maxCount, queue, keepJobs, keepFor, grace, 32 << 20);
    }

    public Limits withMaxUploadBytes(int n) {
        return new Limits(maxBodyBytes, maxPromptChars, maxSeconds, maxSteps, maxCount, queue, keepJobs, keepFor, grace,
                n);
    }

    public Limits {
        if (maxBodyBytes < 64 || maxPromptChars < 1 || !(maxSeconds > 0) || maxSteps < 1 || maxCount < 1 || queue < 1
                || keepJobs < 1 || keepFor.isNegative() || grace.isNegative() || maxUploadBytes < 1024) {
            throw new IllegalArgumentException("limits out of range: " + this);
        }
    }

    public Limits withQueue(int q) {
        return new Limits(maxBodyBytes, maxPromptChars, maxSeconds, maxSteps, maxCount, q, keepJobs, keepFor, grace,
                maxUploadBytes);
    }

    public Limits withKeep(int jobs, Duration d) {
        return new Limits(maxBodyBytes, maxPromptChars, maxSeconds, maxSteps, maxCount, queue, jobs, d, grace,
                maxUploadBytes);
    }

    public Limits withGrace(Duration g) {
        return new Limits(maxBodyBytes, maxPromptChars, maxSeconds, maxSteps, maxCount, queue, keepJobs, keepFor, g,
                maxUploadBytes);
    }

    public Limits withMaxBodyBytes(int n) {
        return new Limits(n, maxPromptChars, maxSeconds, maxSteps, maxCount, queue, keepJobs, keepFor, grace,
                maxUploadBytes);
    }

    public Limits withRequestLimits(int promptChars, double seconds, int steps, int count) {
        return new Limits(maxBodyBytes, promptChars, seconds, steps, count, queue, keepJobs, keepFor, grace,
                maxUploadBytes);
    }
}
