#!/usr/bin/env bats
# shellcheck shell=bash

load common
