# SPDX-License-Identifier: Apache-2.0
# bash completion for @TOOL@, made from its own option tables by
# `@TOOL@ completion bash` (installed for hsmd and hsm-vendor).
eval "$(@PATH@ completion bash 2>/dev/null)"
