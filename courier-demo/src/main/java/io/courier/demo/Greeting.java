package io.courier.demo;

/** A record result. */
public record Greeting(String text, int ageYears) {}
