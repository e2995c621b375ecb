# SPDX-License-Identifier: MIT
# BR2_EXTERNAL makefile (Buildroot manual, "Keeping customizations outside
# of Buildroot"): pull in every package of this tree.
include $(sort $(wildcard $(BR2_EXTERNAL_MICA_PATH)/package/*/*.mk))
