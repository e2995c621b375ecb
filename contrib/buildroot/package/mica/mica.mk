################################################################################
#
# mica
#
################################################################################

# SPDX-License-Identifier: MIT
# Layout and variables: Buildroot manual, "Infrastructure for CMake-based
# packages" and "Writing rules: the .mk file". As a BR2_EXTERNAL tree the
# source is this checkout (no download, so no tarball hash); doc/buildroot.md
# gives the git/tarball form for a copy in Buildroot's own package/.
MICA_VERSION = 0.1.0
MICA_SITE = $(BR2_EXTERNAL_MICA_PATH)/../..
MICA_SITE_METHOD = local
MICA_LICENSE = MIT
MICA_LICENSE_FILES = LICENSE
MICA_INSTALL_STAGING = YES

# The test suite is not part of an image. mica.o (MI_BUILD_OBJECT) would
# land in the target's /usr/lib (target-finalize removes *.a, not *.o);
# libmica.a serves static links. Warnings never fail a package build.
MICA_CONF_OPTS = \
	-DMI_BUILD_TESTS=OFF \
	-DMI_BUILD_OBJECT=OFF \
	-DMI_WERROR=OFF

ifeq ($(BR2_STATIC_LIBS),y)
MICA_CONF_OPTS += -DMI_BUILD_SHARED=OFF -DMI_BUILD_STATIC=ON
else ifeq ($(BR2_SHARED_STATIC_LIBS),y)
MICA_CONF_OPTS += -DMI_BUILD_SHARED=ON -DMI_BUILD_STATIC=ON
else
MICA_CONF_OPTS += -DMI_BUILD_SHARED=ON -DMI_BUILD_STATIC=OFF
endif

ifeq ($(BR2_TOOLCHAIN_USES_MUSL),y)
MICA_CONF_OPTS += -DMI_LIBC_MUSL=ON
else
MICA_CONF_OPTS += -DMI_LIBC_MUSL=OFF
endif

# The operators are written in C (no libstdc++ needed); without a C++
# runtime in the image nothing would call them.
ifeq ($(BR2_INSTALL_LIBSTDCPP),y)
MICA_CONF_OPTS += -DMI_CXX_OPERATORS=ON
else
MICA_CONF_OPTS += -DMI_CXX_OPERATORS=OFF
endif

# glibc's ld.so loads every object named in /etc/ld.so.preload into every
# dynamically linked process (elf/rtld.c); Config.in restricts this to
# glibc with shared libraries.
ifeq ($(BR2_PACKAGE_MICA_PRELOAD),y)
define MICA_INSTALL_PRELOAD
	mkdir -p $(TARGET_DIR)/etc
	echo /usr/lib/libmica.so.0 > $(TARGET_DIR)/etc/ld.so.preload
endef
MICA_POST_INSTALL_TARGET_HOOKS += MICA_INSTALL_PRELOAD
endif

$(eval $(cmake-package))
