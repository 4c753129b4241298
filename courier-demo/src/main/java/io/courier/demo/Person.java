package io.courier.demo;

import java.time.LocalDate;

/** A record argument, with a java.time field. */
public record Person(String name, LocalDate born) {}
